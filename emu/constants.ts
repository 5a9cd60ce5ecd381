/**
 * Unicorn constants faultline uses. Values are those of Unicorn 2.0.1 and
 * 2.1.4 alike unless a per-version table says otherwise; test/emu-constants
 * compiles each version's own headers and checks every value here.
 */

/** uc_arch / uc_mode. */
export const UC_ARCH_X86 = 4;
export const UC_MODE_64 = 8;

/** uc_prot. Regions are always mapped ALL; page tables decide access. */
export const UC_PROT_ALL = 7;

/** uc_hook_type bits used here. */
export const UC_HOOK_INTR = 1;
export const UC_HOOK_INSN = 2;
export const UC_HOOK_MEM_INVALID = 1008;

/** uc_control_type numbers and the UC_CTL_* encoding (cf. unicorn.h). */
export const UC_CTL_TB_REMOVE_CACHE = 9;
export const UC_CTL_TB_FLUSH = 10;
/** faultline's build only (engine patch 0004): the live CPU state and its layout; stock libraries answer UC_ERR_ARG. */
export const UC_CTL_CPU_STATE = 15;
/** faultline's build only (engine patch 0011): return probes' entries taken inside the engine; stock libraries answer UC_ERR_ARG. */
export const UC_CTL_X86_URETPROBE = 16;
export const UC_CTL_IO_WRITE = 1, UC_CTL_IO_READ = 2;
/**
 * UC_CTL(type, nr, io): type | nr << 26 | io << 30, as the signed int
 * uc_ctl's binding takes (a read sets bit 31, and koffi passes an unsigned
 * value above INT_MAX to an int parameter wrongly).
 */
function ucCtl(type: number, nargs: number, io: number): number {
  return type | (nargs << 26) | (io << 30);
}
/** UC_CTL_WRITE(type, nr). */
export function ucCtlWrite(type: number, nargs: number): number {
  return ucCtl(type, nargs, UC_CTL_IO_WRITE);
}
/** UC_CTL_READ(type, nr). */
export function ucCtlRead(type: number, nargs: number): number {
  return ucCtl(type, nargs, UC_CTL_IO_READ);
}

/** uc_query_type: whether the last uc_emu_start ended by its timeout. */
export const UC_QUERY_TIMEOUT = 4;

/** uc_x86_insn: the syscall instruction, for UC_HOOK_INSN. */
export const UC_X86_INS_SYSCALL = 699;

/** uc_x86_reg ids (identical in 2.0.1 and 2.1.4). */
export const Reg = {
  CS: 11, EFLAGS: 25, FPSW: 31, SS: 49,
  RAX: 35, RBP: 36, RBX: 37, RCX: 38, RDI: 39, RDX: 40, RIP: 41, RSI: 43, RSP: 44,
  CR0: 50, CR2: 52, CR3: 53, CR4: 54,
  /** FP0..FP7 are 82..89: the x87 registers R0-R7 by physical number (not ST(i)), 10 bytes each. */
  FP0: 82,
  /** XMM0..XMM15 are 122..137, 16 bytes each. */
  XMM0: 122,
  R8: 106, R9: 107, R10: 108, R11: 109, R12: 110, R13: 111, R14: 112, R15: 113,
  FPCW: 246, FPTAG: 247, MSR: 248, MXCSR: 249, FS_BASE: 250, GS_BASE: 251,
  /** The descriptor-table and task registers, written as a struct uc_x86_mmr (emu/segments.ts). */
  GDTR: 243, TR: 245,
  /** The last x87 instruction's address (env->fpip; 2.1 tracks it, 2.0.1 leaves it 0). */
  FIP: 254,
} as const;

/** Names of the uc_err values, index = number (cf. uc_err in unicorn.h). */
export const UC_ERR_NAMES = [
  "UC_ERR_OK", "UC_ERR_NOMEM", "UC_ERR_ARCH", "UC_ERR_HANDLE", "UC_ERR_MODE", "UC_ERR_VERSION",
  "UC_ERR_READ_UNMAPPED", "UC_ERR_WRITE_UNMAPPED", "UC_ERR_FETCH_UNMAPPED", "UC_ERR_HOOK",
  "UC_ERR_INSN_INVALID", "UC_ERR_MAP", "UC_ERR_WRITE_PROT", "UC_ERR_READ_PROT", "UC_ERR_FETCH_PROT",
  "UC_ERR_ARG", "UC_ERR_READ_UNALIGNED", "UC_ERR_WRITE_UNALIGNED", "UC_ERR_FETCH_UNALIGNED",
  "UC_ERR_HOOK_EXIST", "UC_ERR_RESOURCE", "UC_ERR_EXCEPTION", "UC_ERR_OVERFLOW",
] as const;

/** x86 control-register and MSR bits the memory manager sets. */
export const CR0_PE = 1 << 0, CR0_MP = 1 << 1, CR0_EM = 1 << 2, CR0_WP = 1 << 16, CR0_PG = 0x80000000;
export const CR4_PAE = 1 << 5, CR4_OSFXSR = 1 << 9, CR4_OSXMMEXCPT = 1 << 10;
export const MSR_EFER = 0xc0000080;
export const EFER_NXE = 1 << 11, EFER_SCE = 1 << 0;
/** EFLAGS.TF, the trap flag (single-step). */
export const EFLAGS_TF = 1 << 8;

/** x86 exception vectors seen by the interrupt hook. */
export const Vec = { DE: 0, DB: 1, BP: 3, UD: 6, DF: 8, GP: 13, PF: 14 } as const;

/** #PF error-code bits (Intel SDM 4.7). */
export const PF_PRESENT = 1, PF_WRITE = 2, PF_USER = 4, PF_RSVD = 8, PF_INSTR = 16;
