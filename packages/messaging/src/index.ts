/**
 * `@exaworks/messaging`: authenticated, reliable messaging over WebSockets: named topics with
 * publish/subscribe and request/reply RPC between a {@link MessageHub} and its
 * {@link MessageClient}s. Messages are described by zod schemas, so handlers only ever see
 * validated, typed data. Authentication is always on (HMAC challenge-response over a shared
 * secret, or a bearer token over TLS); delivery is at-least-once with acknowledgements, and
 * handlers process each message once.
 *
 * ### Usage
 * ```ts
 * import { MessageClient, MessageHub, defineRpc, defineTopic } from '@exaworks/messaging';
 * import { z } from 'zod';
 *
 * const secret = 'a shared secret of at least 16 bytes';
 * const events = defineTopic('events', z.object({ n: z.number() }));
 * const add = defineRpc('add', { request: z.object({ a: z.number(), b: z.number() }), reply: z.number() });
 *
 * const hub = await MessageHub.listen({ auth: { secret }, topics: [events, add] });
 * hub.serve(add, ({ a, b }) => a + b);
 * const client = await MessageClient.connect({ url: hub.url, auth: { secret } });
 * await client.subscribe(events, (data) => console.log('got', data.n));
 * await client.publish(events, { n: 1 }); // resolves once every subscriber has processed it
 * console.log(await client.call(add, { a: 2, b: 3 }, { timeout: 5_000 })); // 5
 * await client.close();
 * await hub.close();
 * ```
 * @module
 */
export { type SecretSource, MIN_SECRET_BYTES, loadSecret } from './auth.js';
export {
  type CallOptions,
  type ClientAuth,
  type MessageClientOptions,
  type PublishOptions,
  type Subscription,
  MessageClient,
} from './client.js';
export {
  ConnectionClosedError,
  ForbiddenError,
  HandshakeRefusedError,
  InsecureSecretError,
  QueueFullError,
  type RefusalReason,
  RemoteError,
  ReplyTimeoutError,
  UnknownTopicError,
} from './errors.js';
export { type HubAction, type HubAuth, type HubStats, type MessageHubOptions, type PeerInfo, MessageHub } from './hub.js';
export { CloseCode, PROTOCOL_VERSION } from './protocol.js';
export { type RunHubOptions, runHub } from './run-hub.js';
export {
  type CallMeta,
  type MessageHandler,
  type MessageMeta,
  type Rpc,
  type RpcHandler,
  type Topic,
  type TopicOptions,
  defineRpc,
  defineTopic,
} from './topics.js';
