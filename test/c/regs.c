/* Register, flag and vector-state preservation across an intercepted syscall, on the
 * first execution of a site (trap) and the second (rewritten fast path), and for a
 * number the fast path hands to C (rt_sigprocmask with NULL sets: harmless).
 * Checks: every GPR but rax/rcx/r11 unchanged, rcx == address after the syscall,
 * rflags (CF PF AF ZF SF OF DF) unchanged, xmm0-15 / ymm upper halves / zmm16-31 and
 * opmask k1-k7 unchanged (when the CPU has them), MXCSR (a rounding mode and exception
 * flags that are not the defaults), and the x87 unit: first with its register stack empty
 * and its default control word, then holding a value, with another control word (its
 * status word, with the stack pointer, must be unchanged too). Prints "ok" or the first
 * mismatch. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <cpuid.h>
#include <stddef.h>

struct st { uint64_t g[16]; uint64_t flags; uint64_t rcx_after; uint8_t v[32][64]; uint64_t k[8]; };
struct st before, after;
int have_avx, have_avx512;
uint64_t g_nr, g_flags, g_ra;
/* MXCSR and x87: what is loaded before the call, what is found after it */
uint32_t g_mxcsr_in = 0x5fa5, g_mxcsr_out, g_mxcsr_def = 0x1f80;
uint16_t g_fcw_in = 0x37f, g_fcw_out, g_fcw_def = 0x37f, g_fsw_before, g_fsw_after;
int g_x87;
long double g_x87_in = 3.25L, g_x87_out;

/* gpr order: rbx rdx rsi rdi rbp r8 r9 r10 r12 r13 r14 r15 (and rsp checked separately) */
__attribute__((noinline)) static uint64_t probe(long nr, uint64_t flags_in, uint64_t *ret_addr)
{
    uint64_t res;
    g_nr = (uint64_t)nr; g_flags = flags_in;
    __asm__ volatile(
        /* load vector patterns */
        "lea before+%c[voff](%%rip), %%r11\n\t"
        "movdqu 0(%%r11), %%xmm0\n\t movdqu 64(%%r11), %%xmm1\n\t movdqu 128(%%r11), %%xmm2\n\t movdqu 192(%%r11), %%xmm3\n\t"
        "movdqu 256(%%r11), %%xmm4\n\t movdqu 320(%%r11), %%xmm5\n\t movdqu 384(%%r11), %%xmm6\n\t movdqu 448(%%r11), %%xmm7\n\t"
        "movdqu 512(%%r11), %%xmm8\n\t movdqu 576(%%r11), %%xmm9\n\t movdqu 640(%%r11), %%xmm10\n\t movdqu 704(%%r11), %%xmm11\n\t"
        "movdqu 768(%%r11), %%xmm12\n\t movdqu 832(%%r11), %%xmm13\n\t movdqu 896(%%r11), %%xmm14\n\t movdqu 960(%%r11), %%xmm15\n\t"
        "cmpl $0, have_avx(%%rip)\n\t je 1f\n\t"
        "vmovdqu 0(%%r11), %%ymm0\n\t vmovdqu 64(%%r11), %%ymm1\n\t vmovdqu 960(%%r11), %%ymm15\n\t"
        "1: cmpl $0, have_avx512(%%rip)\n\t je 2f\n\t"
        "vmovdqu64 0(%%r11), %%zmm0\n\t vmovdqu64 1024(%%r11), %%zmm16\n\t vmovdqu64 1984(%%r11), %%zmm31\n\t"
        "kmovq before+%c[koff]+8(%%rip), %%k1\n\t kmovq before+%c[koff]+56(%%rip), %%k7\n\t"
        "2:\n\t"
        /* load GPR patterns */
        "push %%rbp\n\t"
        "mov before+0(%%rip), %%rbx\n\t mov before+8(%%rip), %%rdx\n\t mov before+16(%%rip), %%rsi\n\t mov before+24(%%rip), %%rdi\n\t"
        "mov before+32(%%rip), %%rbp\n\t mov before+40(%%rip), %%r8\n\t mov before+48(%%rip), %%r9\n\t mov before+56(%%rip), %%r10\n\t"
        "mov before+64(%%rip), %%r12\n\t mov before+72(%%rip), %%r13\n\t mov before+80(%%rip), %%r14\n\t mov before+88(%%rip), %%r15\n\t"
        "ldmxcsr g_mxcsr_in(%%rip)\n\t fldcw g_fcw_in(%%rip)\n\t"
        "cmpl $0, g_x87(%%rip)\n\t je 6f\n\t fldt g_x87_in(%%rip)\n\t 6:\n\t"
        "fnstsw g_fsw_before(%%rip)\n\t"
        "pushq g_flags(%%rip)\n\t popfq\n\t"
        "mov g_nr(%%rip), %%rax\n\t"
        "syscall\n"
        "3:\n\t"
        "pushfq\n\t pop after+%c[foff](%%rip)\n\t cld\n\t"
        "stmxcsr g_mxcsr_out(%%rip)\n\t fnstcw g_fcw_out(%%rip)\n\t fnstsw g_fsw_after(%%rip)\n\t"
        "cmpl $0, g_x87(%%rip)\n\t je 7f\n\t fstpt g_x87_out(%%rip)\n\t 7:\n\t"
        "ldmxcsr g_mxcsr_def(%%rip)\n\t fldcw g_fcw_def(%%rip)\n\t"
        "mov %%rcx, after+%c[roff](%%rip)\n\t"
        "mov %%rbx, after+0(%%rip)\n\t mov %%rdx, after+8(%%rip)\n\t mov %%rsi, after+16(%%rip)\n\t mov %%rdi, after+24(%%rip)\n\t"
        "mov %%rbp, after+32(%%rip)\n\t mov %%r8, after+40(%%rip)\n\t mov %%r9, after+48(%%rip)\n\t mov %%r10, after+56(%%rip)\n\t"
        "mov %%r12, after+64(%%rip)\n\t mov %%r13, after+72(%%rip)\n\t mov %%r14, after+80(%%rip)\n\t mov %%r15, after+88(%%rip)\n\t"
        "pop %%rbp\n\t"
        "lea 3b(%%rip), %%r11\n\t mov %%r11, g_ra(%%rip)\n\t"
        "lea after+%c[voff](%%rip), %%r11\n\t"
        "movdqu %%xmm0, 0(%%r11)\n\t movdqu %%xmm1, 64(%%r11)\n\t movdqu %%xmm2, 128(%%r11)\n\t movdqu %%xmm3, 192(%%r11)\n\t"
        "movdqu %%xmm4, 256(%%r11)\n\t movdqu %%xmm5, 320(%%r11)\n\t movdqu %%xmm6, 384(%%r11)\n\t movdqu %%xmm7, 448(%%r11)\n\t"
        "movdqu %%xmm8, 512(%%r11)\n\t movdqu %%xmm9, 576(%%r11)\n\t movdqu %%xmm10, 640(%%r11)\n\t movdqu %%xmm11, 704(%%r11)\n\t"
        "movdqu %%xmm12, 768(%%r11)\n\t movdqu %%xmm13, 832(%%r11)\n\t movdqu %%xmm14, 896(%%r11)\n\t movdqu %%xmm15, 960(%%r11)\n\t"
        "cmpl $0, have_avx(%%rip)\n\t je 4f\n\t"
        "vmovdqu %%ymm0, 0(%%r11)\n\t vmovdqu %%ymm1, 64(%%r11)\n\t vmovdqu %%ymm15, 960(%%r11)\n\t"
        "4: cmpl $0, have_avx512(%%rip)\n\t je 5f\n\t"
        "vmovdqu64 %%zmm0, 0(%%r11)\n\t vmovdqu64 %%zmm16, 1024(%%r11)\n\t vmovdqu64 %%zmm31, 1984(%%r11)\n\t"
        "kmovq %%k1, after+%c[koff]+8(%%rip)\n\t kmovq %%k7, after+%c[koff]+56(%%rip)\n\t"
        "5: vzeroupper\n\t"
        : "=a"(res)
        : [voff] "i"(offsetof(struct st, v)), [koff] "i"(offsetof(struct st, k)),
          [foff] "i"(offsetof(struct st, flags)), [roff] "i"(offsetof(struct st, rcx_after))
        : "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "memory", "cc",
          "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
    *ret_addr = g_ra;
    return res;
}

static int check(const char *what, uint64_t flags_in, uint64_t ret_addr)
{
    for (int i = 0; i < 12; i++)
        if (after.g[i] != before.g[i]) { printf("%s: gpr %d changed %lx -> %lx\n", what, i, (unsigned long)before.g[i], (unsigned long)after.g[i]); return 1; }
    uint64_t m = 0x8d5 | 0x400;   /* CF PF AF ZF SF OF + DF */
    if ((after.flags & m) != (flags_in & m)) { printf("%s: flags %lx -> %lx\n", what, (unsigned long)flags_in, (unsigned long)after.flags); return 1; }
    if (after.rcx_after != ret_addr) { printf("%s: rcx %lx, expected %lx\n", what, (unsigned long)after.rcx_after, (unsigned long)ret_addr); return 1; }
    for (int i = 0; i < 32; i++) {
        int bytes = 0;                                  /* bytes of register i that were loaded */
        if (i < 16) bytes = 16;
        if (have_avx && (i == 0 || i == 1 || i == 15)) bytes = 32;
        if (have_avx512 && (i == 0 || i == 16 || i == 31)) bytes = 64;
        if (bytes && memcmp(after.v[i], before.v[i], (size_t)bytes)) { printf("%s: vector register %d changed\n", what, i); return 1; }
    }
    if (have_avx512 && (after.k[1] != before.k[1] || after.k[7] != before.k[7])) { printf("%s: opmask changed\n", what); return 1; }
    if (g_mxcsr_out != g_mxcsr_in) { printf("%s: mxcsr %x -> %x\n", what, g_mxcsr_in, g_mxcsr_out); return 1; }
    if (g_fcw_out != g_fcw_in) { printf("%s: x87 control word %x -> %x\n", what, g_fcw_in, g_fcw_out); return 1; }
    if (g_fsw_after != g_fsw_before) { printf("%s: x87 status word %x -> %x\n", what, g_fsw_before, g_fsw_after); return 1; }
    if (g_x87 && g_x87_out != g_x87_in) { printf("%s: x87 st(0) changed\n", what); return 1; }
    return 0;
}

int main(void)
{
    unsigned a, b, c, d;
    __cpuid(1, a, b, c, d);
    int osx = (c >> 27) & 1;
    uint64_t xcr0 = 0;
    if (osx) { unsigned lo, hi; __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0)); xcr0 = ((uint64_t)hi << 32) | lo; }
    have_avx = osx && ((c >> 28) & 1) && (xcr0 & 6) == 6;
    __cpuid_count(7, 0, a, b, c, d);
    have_avx512 = have_avx && ((b >> 16) & 1) && (xcr0 & 0xe0) == 0xe0;
    for (int i = 0; i < 16; i++) before.g[i] = 0x1111111111111111ull * (uint64_t)(i + 1) ^ 0x0123456789abcdefull;
    for (int i = 0; i < 32; i++) for (int j = 0; j < 64; j++) before.v[i][j] = (uint8_t)(i * 64 + j + 7);
    for (int i = 0; i < 8; i++) before.k[i] = 0xa5a5a5a5a5a5a5a5ull >> i;
    /* flag patterns: all arithmetic flags set (+DF), all clear, mixed with OF only */
    uint64_t pats[3] = { 0x2 | 0x8d5 | 0x400, 0x2, 0x2 | 0x800 | 0x1 };
    /* the same site serves every number: getppid first (trap, then rewritten), then a
     * number the fast path hands to C (rt_sigprocmask: garbage size -> -EINVAL), then bad
     * numbers: in the sled (1000), beyond it (0x7fffffff), non-canonical (-1), x32 bit */
    long nrs[] = { 110, 14, 1000, 0x7fffffffL, -1L, 0x40000027L, 3 };
    long want[] = { 0, -22, -38, -38, -38, -38, -9 };   /* 0: any positive; close(bad fd) fails on the fast path */
    for (g_x87 = 0; g_x87 < 2; g_x87++) {
    g_fcw_in = g_x87 ? 0x0e7f : 0x37f;      /* x87 in use: round toward zero too */
    for (unsigned n = 0; n < sizeof nrs / sizeof nrs[0]; n++) {
        for (int p = 0; p < 3; p++) {
            for (int round = 0; round < 2; round++) {
                uint64_t ra = 0;
                memset(&after, 0, sizeof after);
                long r = probe(nrs[n], pats[p], &ra);
                if (n == 0 ? r <= 0 : r != want[n]) { printf("nr %ld returned %ld\n", nrs[n], r); return 1; }
                char what[64];
                snprintf(what, sizeof what, "nr %ld pattern %d round %d x87 %d", nrs[n], p, round, g_x87);
                if (check(what, pats[p], ra)) return 1;
            }
        }
    }
    }
    printf("ok avx=%d avx512=%d\n", have_avx, have_avx512);
    return 0;
}
