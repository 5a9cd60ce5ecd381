/**
 * emu/signal: signal state, sending, delivery and the x86-64 frame. This
 * file is the area's whole surface; see emu/README.md "Signals".
 */
export * from "./constants.js";
export { decodeSigInfo, encodeSigInfo, userSigInfo, SIGINFO_SIZE, type SigInfo } from "./siginfo.js";
export { SigPending } from "./pending.js";
export { SigHand, DEFAULT_ACTION, SIGACTION_SIZE, decodeSigAction, encodeSigAction, type SigAction } from "./sighand.js";
export { BadFrameError, restoreRtFrame, resetHandlerFpu, type UserContext } from "./frame.js";
export {
  ERESTARTNOHAND, ERESTARTNOINTR, ERESTARTSYS, ERESTART_RESTARTBLOCK, RestartError, SS_AUTODISARM, SS_DISABLE, SS_ONSTACK,
  SignalStruct, TaskSignals, deliverSignals, dequeueSignal, execSignals, expireTimers, forceSignal, restartAs, sendSignal, signalPending, sigsetFromUser, withSigmask,
  type AltStack, type DeliveryPoint, type RestartCode,
} from "./delivery.js";
export { ProcessTimers } from "./timers.js";
