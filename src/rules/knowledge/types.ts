import type { RevokableObjects } from '../../typebox/common/enums.js';
import type { ControlTypeShort } from '../../typebox/message-spec.js';
import type { IdentifiedMessage } from '../../typebox/registry.js';

/**
 * What one control type knows in a session and how a message is judged against it: the
 * cross-message rules of docs/rules.md (#instructions to #ppbc) that need session knowledge. Pure: the
 * control-type statechart keeps the knowledge in its context and calls these.
 *
 * `refusal` answers "does this message refer to things that exist?" — a reason means the
 * receiver answers INVALID_CONTENT and changes nothing (R16, R49, Q14). `rejection` answers "is
 * this known instruction acceptable?" — a reason means the RM answers OK and then REJECTED (Q14).
 */
export interface ControlTypeRules<K> {
  readonly area: ControlTypeShort;
  /** The message types that describe the flexibility the CEM may instruct against (R39). */
  readonly descriptions: ReadonlySet<string>;
  /** The instruction message types of this control type. */
  readonly instructions: ReadonlySet<string>;
  empty(): K;
  /** Whether instructions may be given: at least one valid description (R39). */
  described(k: K): boolean;
  /** Why the message's references do not hold (INVALID_CONTENT), or undefined. Instructions' own id uniqueness is checked by the caller. */
  refusal(k: K, message: IdentifiedMessage): string | undefined;
  /** The knowledge after an accepted message. */
  learn(k: K, message: IdentifiedMessage): K;
  /** Whether a non-instruction object of that type and id exists (R54). */
  hasObject(k: K, objectType: RevokableObjects, objectId: string): boolean;
  /** The knowledge without that object (R58). */
  revoke(k: K, objectType: RevokableObjects, objectId: string): K;
  /**
   * RM side: why a well-referenced instruction cannot be carried out as asked (REJECTED), or
   * undefined. `now` (ms) is the session clock (the statechart passes it): a past execution_time
   * means "at once" (R43); without it the rules judge at execution_time.
   */
  rejection?(k: K, instruction: IdentifiedMessage, now?: number): string | undefined;
}
