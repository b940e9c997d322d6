/**
 * The errors of `@exaworks/messaging`: each one an {@link ExaworksError} with a stable code.
 * @module
 */
import { ErrorCode, ExaworksError, type ExaworksErrorOptions } from '@exaworks/jpsi-core';

/** Thrown when the hub declares its topics and RPC names and this one is not among them. */
export class UnknownTopicError extends ExaworksError {
  constructor(
    /** The topic or RPC name that was refused. */
    readonly topic: string,
    options: ExaworksErrorOptions = {},
  ) {
    super(
      ErrorCode.UNKNOWN_TOPIC,
      `The hub does not know the topic "${topic}". Declare it in the hub's \`topics\` option.`,
      options,
    );
  }
}

/** Thrown by `call()` when no reply arrived within its timeout. */
export class ReplyTimeoutError extends ExaworksError {
  constructor(
    /** The RPC name that was called. */
    readonly rpc: string,
    /** The timeout that ran out, in milliseconds. */
    readonly timeoutMs: number,
    options: ExaworksErrorOptions = {},
  ) {
    super(
      ErrorCode.REPLY_TIMEOUT,
      `No reply to "${rpc}" within ${timeoutMs} ms. Is a peer serving it, and is it keeping up? Raise \`timeout\` if it is slow.`,
      options,
    );
  }
}

/** Thrown when a client or hub is used after `close()`, or closes while a message waits for its answer. */
export class ConnectionClosedError extends ExaworksError {
  constructor(what: string, options: ExaworksErrorOptions = {}) {
    super(ErrorCode.CONNECTION_CLOSED, `The ${what} has been closed.`, options);
  }
}

/** Why a handshake was refused (one of these is in {@link HandshakeRefusedError.reason}). */
export type RefusalReason =
  /** The peer's HMAC proof or token does not match. */
  | 'bad-credentials'
  /** The hub's own proof did not match: it does not know the secret (not the hub you meant). */
  | 'hub-not-authentic'
  /** A bearer token was offered over a connection without TLS. */
  | 'tls-required'
  /** The hub authenticates with another method than the one the client used. */
  | 'wrong-method'
  /** The handshake did not finish in time. */
  | 'timeout'
  /** The handshake messages were not well formed. */
  | 'protocol';

/** Thrown by `connect()` when the hub (or the client itself) refuses the handshake; `reason` says why. */
export class HandshakeRefusedError extends ExaworksError {
  constructor(
    /** Why the handshake was refused. */
    readonly reason: RefusalReason,
    detail: string,
    options: ExaworksErrorOptions = {},
  ) {
    super(ErrorCode.HANDSHAKE_REFUSED, `Handshake refused (${reason}): ${detail}`, options);
  }
}

/** Thrown when the hub's `authorize` hook refuses an action on a topic. */
export class ForbiddenError extends ExaworksError {
  constructor(
    /** What was refused. */
    readonly action: string,
    /** On which topic or RPC name. */
    readonly topic: string,
    options: ExaworksErrorOptions = {},
  ) {
    super(ErrorCode.FORBIDDEN, `The hub does not allow this peer to ${action} "${topic}".`, options);
  }
}

/** Thrown when a bounded queue is full and the caller chose `queueFull: 'reject'` instead of waiting. */
export class QueueFullError extends ExaworksError {
  constructor(
    /** The bound that was hit. */
    readonly limit: number,
    options: ExaworksErrorOptions = {},
  ) {
    super(
      ErrorCode.QUEUE_FULL,
      `${limit} messages are already waiting for acknowledgement. Wait for them (queueFull: 'wait') or raise maxInFlight.`,
      options,
    );
  }
}

/** Thrown by `call()` when the remote handler threw; the message is the handler's. */
export class RemoteError extends ExaworksError {
  constructor(
    /** The RPC name that failed. */
    readonly rpc: string,
    message: string,
    /** The remote error's `code` when it had one (an ExaworksError code, say). */
    readonly remoteCode: string | undefined,
    options: ExaworksErrorOptions = {},
  ) {
    super(ErrorCode.REMOTE_ERROR, `"${rpc}" failed on the serving peer: ${message}`, options);
  }
}

/** Thrown when a secret file is readable by group or others, or a secret is missing or too short. */
export class InsecureSecretError extends ExaworksError {
  constructor(message: string, options: ExaworksErrorOptions = {}) {
    super(ErrorCode.INSECURE_SECRET, message, options);
  }
}
