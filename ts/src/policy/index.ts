// Built-in policies, TypeScript side: rule expressions (strace's -e syntax) and strace-style
// formatting of traced calls. The C core evaluates the rules; see docs/policies.md.
export type { PolicyAction, Rule, RuleScope, TraceEvent, TraceOptions } from './types.js';
export {
  DEFAULT_DENY_ERRNO, DEFAULT_FAULT_ERRNO, DEFAULT_STRSIZE, DEFAULT_TRACE_OPTIONS, describeRule, formatRule, formatWhen,
  MAX_STRSIZE, parseDelay, parseErrno, parseRetval, parseRuleExpressions, parseSignal, parseTraceArgs, parseWhen,
  TRACE_USAGE, validateRules, validateTraceOptions, whenSelects,
  type DenySpec, type InjectSpec, type PolicyOptions, type SyscallSetSpec, type TraceArgs, type TraceSpec,
} from './parse.js';
export {
  ALL_NRS, argCount, classesOf, classMembers, formatSyscallSet, parseSyscallSet, SET_CLASSES, syscallName, syscallNumber,
} from './sets.js';
export { formatScope, globToRegExp, parseScope, scopeMatches, type CallSite } from './scope.js';
export { errnoByName, errnoMessage, errnoName, errnoNames, MAX_ERRNO, NSIG, signalByName, signalName } from './names.js';
export { callName, createFormatter, formatEvent, formatExit, formatTimestamp, type FormatContext, type ProcessEnd } from './format.js';
export { quoteBytes, quoteLimited } from './quote.js';
export { CAPTURES, type Capture, type CaptureKind } from './capture.js';

/** false: this is the full policy module. (Branch polcore carried a placeholder of this
 *  module, with this set to true, whose tests skipped what needs the full syntax.) */
export const POLICY_PLACEHOLDER = false;
