/**
 * Topic and RPC definitions: a name plus the zod schemas of what travels on it.
 * @module
 */
import { parseWith } from '@exaworks/jpsi-core';
import type { z } from 'zod';
import { TopicNameSchema } from './protocol.js';

/** A publish/subscribe topic: its name and the schema of its messages. Make one with {@link defineTopic}. */
export interface Topic<S extends z.ZodType = z.ZodType> {
  /** Always `topic`. */
  readonly kind: 'topic';
  /** The topic's name on the wire. */
  readonly name: string;
  /** What a message must look like; subscribers only ever see data that passed it. */
  readonly schema: S;
  /**
   * Whether the hub holds a message until at least one subscriber exists (instead of dropping it).
   * @default false
   */
  readonly requireSubscriber: boolean;
}

/** A request/reply procedure: its name and the schemas of the request and the reply. Make one with {@link defineRpc}. */
export interface Rpc<Req extends z.ZodType = z.ZodType, Rep extends z.ZodType = z.ZodType> {
  /** Always `rpc`. */
  readonly kind: 'rpc';
  /** The procedure's name on the wire. */
  readonly name: string;
  /** What a request must look like. */
  readonly request: Req;
  /** What a reply must look like. */
  readonly reply: Rep;
}

/** Options of {@link defineTopic}. */
export interface TopicOptions {
  /**
   * Hold messages at the hub until a subscriber exists, so nothing published while the
   * subscriber reconnects is dropped. Without it, a message with no subscriber is acknowledged
   * and dropped (the usual pub/sub rule).
   * @default false
   */
  readonly requireSubscriber?: boolean;
}

/**
 * Defines a topic.
 * @throws `ValidationError` for a name that is not 1–200 letters, digits or `. _ : / -`.
 */
export function defineTopic<S extends z.ZodType>(name: string, schema: S, options: TopicOptions = {}): Topic<S> {
  parseWith(TopicNameSchema, name, 'topic name');
  return Object.freeze({ kind: 'topic', name, schema, requireSubscriber: options.requireSubscriber === true });
}

/**
 * Defines a request/reply procedure.
 * @throws `ValidationError` for a name that is not 1–200 letters, digits or `. _ : / -`.
 */
export function defineRpc<Req extends z.ZodType, Rep extends z.ZodType>(
  name: string,
  schemas: { readonly request: Req; readonly reply: Rep },
): Rpc<Req, Rep> {
  parseWith(TopicNameSchema, name, 'RPC name');
  return Object.freeze({ kind: 'rpc', name, request: schemas.request, reply: schemas.reply });
}

/** Where a delivered message came from. */
export interface MessageMeta {
  /** The topic it was published on. */
  readonly topic: string;
  /** The sender: its client id and incarnation (`id~epoch`), or the hub's. */
  readonly origin: string;
  /** The sender's sequence number of this message (unique per origin). */
  readonly seq: number;
}

/** A subscriber's handler: called once per message, with validated data. The message is acknowledged when it returns (or its promise settles). */
export type MessageHandler<S extends z.ZodType> = (data: z.output<S>, meta: MessageMeta) => void | Promise<void>;

/** Who made a call, as seen by an RPC handler. */
export interface CallMeta {
  /** The RPC name. */
  readonly rpc: string;
  /** The caller (`id~epoch`). */
  readonly origin: string;
}

/** An RPC handler: gets the validated request and returns the reply (checked against the reply schema). */
export type RpcHandler<Req extends z.ZodType, Rep extends z.ZodType> = (
  request: z.output<Req>,
  meta: CallMeta,
) => z.input<Rep> | Promise<z.input<Rep>>;
