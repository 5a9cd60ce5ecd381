/*
 * Probe targets of every instruction class, for test/kprobes-classes.test.ts.
 * Each probed instruction starts a global label (kp_*), a NOTYPE symbol that
 * `faultline symbols`/nm list and a probe spec can name; the functions are
 * hand-written assembly with .type/.size, so the boundary check can
 * disassemble them. main calls every t_* function N times (argv[1], default
 * 5) and prints each result, so a mis-run instruction changes the output.
 * Hit counts per label follow from N (see the test's table).
 * t_refuse (refused instructions) runs only with argc > 100: never.
 * With argv[2] = badpush, badcall or badload, main runs one faulting
 * instruction instead and the program dies of SIGSEGV.
 */
#include <stdio.h>
#include <stdlib.h>

#define S(x) #x
#define L(name) ".globl " S(name) "\n" S(name) ":\n\t"
#define FN(name) ".text\n.globl " S(name) "\n.type " S(name) ",@function\n.p2align 4\n" S(name) ":\n\t"
#define END(name) ".size " S(name) ", .-" S(name) "\n"

long g_load = 40;          /* read RIP-relative */
long g_store;              /* written RIP-relative */
long g_rmw = 1000;         /* read-modify-write RIP-relative (plain and locked) */
int g_store32;             /* 32-bit store RIP-relative */
int g_sys_rcx_ok, g_sys_r11_tf; /* what t_sys saw in RCX and R11 after its syscall */
unsigned char g_flag = 1;  /* cmpb / testb with an imm8 after the displacement */
double g_dbl = 2.5;        /* SSE load RIP-relative */
long (*g_fnptr)(long);     /* call *g_fnptr(%rip) */
void *g_jt;                /* jmp *g_jt(%rip) */
char g_src[32] = "0123456789abcdefghijklmnopqrstu";
char g_dst[32];
const char msg[] = "S\n";

long t_nops(long), t_push(long), t_jmp(long), t_call(long), t_icall(long), t_ijmp(long);
long t_jcc(long), t_loop(long), t_rip(long), t_other(long), t_string(long), t_sys(long), t_pushf(long);
long add_one(long);
void t_refuse(void), t_badpush(void), t_badcall(void), t_badload(void);
#include <string.h>

/* nop forms: 90, 66 90, f3 90 (pause), 0f 1f /0 (two lengths), endbr64 (f3 0f 1e fa: a hint nop, not in the emulated set) */
asm(FN(t_nops)
    L(kp_nop90) "nop\n\t"
    L(kp_nop6690) ".byte 0x66, 0x90\n\t"
    L(kp_pause) "pause\n\t"
    L(kp_nopl) "nopl 0(%rax)\n\t"
    L(kp_nopw) "nopw 0(%rax,%rax,1)\n\t"
    L(kp_endbr64) ".byte 0xf3, 0x0f, 0x1e, 0xfa\n\t"
    "lea 1(%rdi), %rax\n\t"
    "ret\n"
    END(t_nops));

/* push reg: rbx, rbp, rsp (pushes its old value), r12, r15 (REX.B), and a 16-bit push (66 50: not emulated) */
asm(FN(t_push)
    "push %rbx\n\t" "push %rbp\n\t" "push %r12\n\t" "push %r15\n\t"
    "lea 1(%rdi), %rbx\n\t" "lea 2(%rdi), %rbp\n\t" "lea 3(%rdi), %r12\n\t" "lea 4(%rdi), %r15\n\t"
    L(kp_push_rbx) "push %rbx\n\t"
    L(kp_push_rbp) "push %rbp\n\t"
    L(kp_push_r12) "push %r12\n\t"
    L(kp_push_r15) "push %r15\n\t"
    "pop %rax\n\t" "pop %rcx\n\t" "add %rcx, %rax\n\t" "pop %rcx\n\t" "add %rcx, %rax\n\t" "pop %rcx\n\t" "add %rcx, %rax\n\t"
    L(kp_push_rsp) "push %rsp\n\t"
    "pop %rcx\n\t" "sub %rsp, %rcx\n\t" "add %rcx, %rax\n\t"            /* old rsp - rsp: 0 */
    "mov $0x1234, %ecx\n\t"
    L(kp_push16) ".byte 0x66, 0x51\n\t"                                 /* push %cx: 2 bytes */
    ".byte 0x66, 0x5a\n\t"                                              /* pop %dx */
    "movzwl %dx, %edx\n\t" "add %rdx, %rax\n\t"
    "pop %r15\n\t" "pop %r12\n\t" "pop %rbp\n\t" "pop %rbx\n\t"
    "ret\n"
    END(t_push));                                                        /* 4x + 10 + 0x1234 */

/* jmp rel8 and rel32, each over an inc that must not run */
asm(FN(t_jmp)
    "mov %rdi, %rax\n\t"
    L(kp_jmp8) ".byte 0xeb, 0x03\n\t"
    "inc %rax\n\t"
    L(kp_jmp32) ".byte 0xe9\n\t.long 3\n\t"
    "inc %rax\n\t"
    "ret\n"
    END(t_jmp));

/* callee of the call tests; its ret is probed too */
asm(FN(add_one)
    "lea 1(%rdi), %rax\n\t"
    L(kp_ret) "ret\n"
    END(add_one));

/* call rel32 */
asm(FN(t_call)
    L(kp_call32) "call add_one\n\t"
    "lea 10(%rax), %rax\n\t"
    "ret\n"
    END(t_call));

/* indirect calls: through rax, through r11 (REX.B), through memory RIP-relative (ff 15), through memory [rcx] */
asm(FN(t_icall)
    "lea add_one(%rip), %rax\n\t"
    L(kp_call_rax) "call *%rax\n\t"
    "mov %rax, %rdi\n\t"
    "lea add_one(%rip), %r11\n\t"
    L(kp_call_r11) "call *%r11\n\t"
    "mov %rax, %rdi\n\t"
    L(kp_call_riprel) "call *g_fnptr(%rip)\n\t"
    "mov %rax, %rdi\n\t"
    "lea g_fnptr(%rip), %rcx\n\t"
    L(kp_call_mem) "call *(%rcx)\n\t"
    "ret\n"
    END(t_icall));                                                       /* x + 4 */

/* indirect jumps: through a register and through memory RIP-relative (ff 25) */
asm(FN(t_ijmp)
    "mov %rdi, %rax\n\t"
    "lea 1f(%rip), %rdx\n\t"
    L(kp_jmp_rdx) "jmp *%rdx\n\t"
    "ud2\n"
    "1:\tlea 2f(%rip), %rdx\n\t"
    "mov %rdx, g_jt(%rip)\n\t"
    L(kp_jmp_riprel) "jmp *g_jt(%rip)\n\t"
    "ud2\n"
    "2:\tadd $5, %rax\n\t"
    "ret\n"
    END(t_ijmp));

/* jcc: rel8 and rel32 forms, taken and not taken; signed and unsigned conditions */
asm(FN(t_jcc)
    "xor %eax, %eax\n\t"
    "cmp $0, %rdi\n\t"
    L(kp_jcc8_taken) "jne 1f\n\t"
    "add $100, %rax\n"
    "1:\t"
    L(kp_jcc8_not) "je 2f\n\t"
    "add $1, %rax\n"
    "2:\tcmp %rdi, %rdi\n\t"
    L(kp_jcc32_taken) ".byte 0x0f, 0x84\n\t.long 4\n\t"               /* je rel32 over the add */
    "add $100, %rax\n\t"                                                /* 4 bytes */
    L(kp_jcc32_not) ".byte 0x0f, 0x85\n\t.long 4\n\t"                 /* jne rel32 */
    "add $10, %rax\n\t"
    "mov $-1, %rcx\n\t"
    "cmp $1, %rcx\n\t"                                                  /* -1 < 1 signed, above unsigned */
    L(kp_jl_taken) "jl 3f\n\t"
    "add $1000, %rax\n"
    "3:\t"
    L(kp_jb_not) "jb 4f\n\t"
    "add $20, %rax\n"
    "4:\t"
    L(kp_jg_not) "jg 5f\n\t"
    "add $300, %rax\n"
    "5:\t"
    L(kp_ja_taken) "ja 6f\n\t"
    "add $5000, %rax\n"
    "6:\tmov $0x7fffffffffffffff, %rcx\n\t"
    "add $1, %rcx\n\t"                                                  /* OF=1, SF=1 */
    L(kp_jo_taken) "jo 7f\n\t"
    "add $60000, %rax\n"
    "7:\t"
    L(kp_jge_taken) "jge 8f\n\t"                                       /* SF == OF */
    "add $700000, %rax\n"
    "8:\t"
    "test $3, %edi\n\t"
    L(kp_jp_data) "jp 9f\n\t"                                          /* parity of the low byte of x & 3 */
    "add $8000000, %rax\n"
    "9:\tret\n"
    END(t_jcc));

/* a loop's backward jcc: taken x-1 times, not taken once per call */
asm(FN(t_loop)
    "xor %eax, %eax\n"
    "1:\tinc %rax\n\t"
    "cmp %rdi, %rax\n\t"
    L(kp_jcc_loop) "jl 1b\n\t"
    "ret\n"
    END(t_loop));

/* RIP-relative operands: load, store, read-modify-write, imm after disp, lea into rsi, REX.R, SSE, push m64, locked rmw */
asm(FN(t_rip)
    L(kp_rip_load) "mov g_load(%rip), %rax\n\t"
    "add %rdi, %rax\n\t"
    L(kp_rip_store) "mov %rax, g_store(%rip)\n\t"
    L(kp_rip_store32) "mov %eax, g_store32(%rip)\n\t"
    L(kp_rip_rmw) "addq $3, g_rmw(%rip)\n\t"
    L(kp_rip_cmpb) "cmpb $1, g_flag(%rip)\n\t"
    "jne 1f\n\t"
    "add $1000, %rax\n"
    "1:\t"
    L(kp_rip_testb) "testb $1, g_flag(%rip)\n\t"
    "jz 2f\n\t"
    "add $2000, %rax\n"
    "2:\t"
    L(kp_rip_lea_rsi) "lea g_load(%rip), %rsi\n\t"
    "add (%rsi), %rax\n\t"
    L(kp_rip_r9) "mov g_load(%rip), %r9\n\t"
    "add %r9, %rax\n\t"
    L(kp_rip_sse) "movsd g_dbl(%rip), %xmm0\n\t"
    "cvttsd2si %xmm0, %rcx\n\t"
    "add %rcx, %rax\n\t"
    L(kp_rip_push) "pushq g_load(%rip)\n\t"
    "pop %rcx\n\t"
    "add %rcx, %rax\n\t"
    L(kp_rip_lock) "lock addq $5, g_rmw(%rip)\n\t"
    "ret\n"
    END(t_rip));

/* instructions the emulation does not cover */
asm(FN(t_other)
    "push %rbp\n\t"
    "mov %rsp, %rbp\n\t"
    "sub $16, %rsp\n\t"
    "mov %rdi, %rax\n\t"
    L(kp_add) "add %rdi, %rax\n\t"
    L(kp_imul) "imul $7, %rax, %rax\n\t"
    L(kp_store) "mov %rax, -8(%rbp)\n\t"
    L(kp_load) "mov -8(%rbp), %rcx\n\t"
    L(kp_lea) "lea 3(%rcx,%rdi,2), %rax\n\t"
    "mov $11, %r8\n\t"
    L(kp_xchg_r8) "xchg %r8, %rax\n\t"                                /* 49 90: not a nop */
    "add %r8, %rax\n\t"
    L(kp_push_imm) "push $0x55\n\t"
    L(kp_pop) "pop %rcx\n\t"
    "add %rcx, %rax\n\t"
    "mov $0, %edx\n\t"
    "mov $3, %ecx\n\t"
    L(kp_div) "div %rcx\n\t"
    "add %rdx, %rax\n\t"
    "test %rdx, %rdx\n\t"
    "mov $77, %rcx\n\t"
    L(kp_cmov) "cmovne %rcx, %rax\n\t"
    L(kp_movabs) "movabs $0x1122334455667788, %rdx\n\t"
    "shr $56, %rdx\n\t"
    "add %rdx, %rax\n\t"
    L(kp_leave) "leave\n\t"
    "ret\n"
    END(t_other));

/* string instructions with rep: one instruction, many iterations */
asm(FN(t_string)
    "lea g_src(%rip), %rsi\n\t"
    "lea g_dst(%rip), %rdx\n\t"
    "xchg %rdx, %rdi\n\t"                                               /* rdi = dst, rdx = x */
    "mov %rdx, %rcx\n\t"
    "and $15, %rcx\n\t"
    "inc %rcx\n\t"
    L(kp_rep_movsb) "rep movsb\n\t"
    "mov $8, %rcx\n\t"
    "mov $0x2a, %al\n\t"
    L(kp_rep_stosb) "rep stosb\n\t"
    "movsbq g_dst(%rip), %rax\n\t"
    "movsbq g_dst+15(%rip), %rcx\n\t"
    "add %rcx, %rax\n\t"
    "ret\n"
    END(t_string));

/* pushf: the pushed flags must not show the step's TF */
asm(FN(t_pushf)
    "mov %rdi, %rax\n\t"
    L(kp_pushf) "pushf\n\t"
    "pop %rcx\n\t"
    "and $0x100, %rcx\n\t"                                              /* TF */
    "add %rcx, %rax\n\t"
    "ret\n"
    END(t_pushf));

/* syscall: write(1, "S\n", 2). The CPU leaves the next instruction's address in RCX and
   RFLAGS in R11; g_sys_rcx_ok and g_sys_r11_tf record what this one saw. */
asm(FN(t_sys)
    "push %rdi\n\t"
    "mov $1, %eax\n\t"
    "mov $1, %edi\n\t"
    "lea msg(%rip), %rsi\n\t"
    "mov $2, %edx\n\t"
    "lea 1f(%rip), %r8\n\t"
    L(kp_syscall) "syscall\n"
    "1:\tpop %rdi\n\t"
    "xor %edx, %edx\n\t"
    "cmp %rcx, %r8\n\t"
    "sete %dl\n\t"
    "mov %edx, g_sys_rcx_ok(%rip)\n\t"
    "shr $8, %r11\n\t"
    "and $1, %r11d\n\t"
    "mov %r11d, g_sys_r11_tf(%rip)\n\t"
    "add %rdi, %rax\n\t"                                               /* 2 + x */
    "ret\n"
    END(t_sys));

/* faults at a probed instruction (argv[2] picks one; each ends the program with SIGSEGV):
   an emulated push and call with RSP pointing at unmapped memory, a stepped load of address 16 */
asm(FN(t_badpush)
    "mov $0x10008, %rsp\n\t"
    L(kp_bad_push) "push %rax\n\t"
    "ret\n"
    END(t_badpush));
asm(FN(t_badcall)
    "mov $0x10008, %rsp\n\t"
    L(kp_bad_call) "call add_one\n\t"
    "ret\n"
    END(t_badcall));
asm(FN(t_badload)
    "mov $16, %rax\n\t"
    L(kp_bad_load) "mov (%rax), %rax\n\t"
    "ret\n"
    END(t_badload));

/* refused at registration; never run */
asm(FN(t_refuse)
    L(kp_int3) "int3\n\t"
    L(kp_int80) "int $0x80\n\t"
    L(kp_int1) ".byte 0xf1\n\t"
    L(kp_loop) "loop 1f\n\t"
    L(kp_jrcxz) "jrcxz 1f\n"
    "1:\t"
    L(kp_mid) "movabs $0x1122334455667788, %rax\n\t"
    "ret\n"
    END(t_refuse));

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int n = argc > 1 ? atoi(argv[1]) : 5;
  if (argc > 2) {
    fflush(stdout);
    if (!strcmp(argv[2], "badpush")) t_badpush();
    if (!strcmp(argv[2], "badcall")) t_badcall();
    if (!strcmp(argv[2], "badload")) t_badload();
    return 99;
  }
  g_fnptr = add_one;
  for (long i = 1; i <= n; i++) {
    printf("nops %ld push %ld jmp %ld call %ld icall %ld ijmp %ld\n", t_nops(i), t_push(i), t_jmp(i), t_call(i), t_icall(i), t_ijmp(i));
    printf("jcc %ld loop %ld rip %ld other %ld\n", t_jcc(i), t_loop(i), t_rip(i), t_other(i));
    printf("string %ld pushf %ld\n", t_string(i), t_pushf(i));
    long sys = t_sys(i);
    printf("sys %ld rcx_ok %d r11_tf %d\n", sys, g_sys_rcx_ok, g_sys_r11_tf);
  }
  printf("g_store %ld g_store32 %d g_rmw %ld g_dst %.31s\n", g_store, g_store32, g_rmw, g_dst);
  if (argc > 100) t_refuse();
  return (int)(g_rmw & 0x3f);
}
