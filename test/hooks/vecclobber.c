/* A zpoline-ABI hook that changes every piece of vector state it can reach, before and
 * after passing each call on: xmm0-15, the ymm upper halves, zmm0-31 and k0-k7 (when the
 * CPU has them), MXCSR (rounding mode and exception flags), and the x87 unit (fninit
 * empties its register stack, an inexact division sets a status flag, the control word
 * gets another precision and rounding).
 * Nothing of it may reach the program: trapline saves the program's state around a hook
 * that does not declare TRAPLINE_HOOK_NO_VECTOR. */
#include <cpuid.h>
#include <stdint.h>

typedef long (*syscall_fn_t)(long, long, long, long, long, long, long);
static syscall_fn_t next_sys_call;
static int have_avx, have_avx512;
static const uint32_t bad_mxcsr = 0x3f80 | 0x3f;   /* round down, every exception flag */
static const uint16_t bad_fcw = 0x0c7f;            /* round toward zero, single precision */

__attribute__((noinline)) static void clobber(void)
{
    __asm__ volatile(
        "pcmpeqd %%xmm0, %%xmm0\n\t pcmpeqd %%xmm1, %%xmm1\n\t pcmpeqd %%xmm2, %%xmm2\n\t pcmpeqd %%xmm3, %%xmm3\n\t"
        "pcmpeqd %%xmm4, %%xmm4\n\t pcmpeqd %%xmm5, %%xmm5\n\t pcmpeqd %%xmm6, %%xmm6\n\t pcmpeqd %%xmm7, %%xmm7\n\t"
        "pcmpeqd %%xmm8, %%xmm8\n\t pcmpeqd %%xmm9, %%xmm9\n\t pcmpeqd %%xmm10, %%xmm10\n\t pcmpeqd %%xmm11, %%xmm11\n\t"
        "pcmpeqd %%xmm12, %%xmm12\n\t pcmpeqd %%xmm13, %%xmm13\n\t pcmpeqd %%xmm14, %%xmm14\n\t pcmpeqd %%xmm15, %%xmm15\n\t"
        "ldmxcsr %0\n\t"
        "fninit\n\t fld1\n\t fldpi\n\t fdivrp\n\t fstp %%st(0)\n\t fldcw %1\n\t"
        : : "m"(bad_mxcsr), "m"(bad_fcw)
        : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
          "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "memory");
    if (have_avx)
        __asm__ volatile(
            "vpcmpeqd %%ymm0, %%ymm0, %%ymm0\n\t vpcmpeqd %%ymm1, %%ymm1, %%ymm1\n\t vpcmpeqd %%ymm7, %%ymm7, %%ymm7\n\t"
            "vpcmpeqd %%ymm15, %%ymm15, %%ymm15\n\t" : : : "xmm0", "xmm1", "xmm7", "xmm15");
    if (have_avx512)
        __asm__ volatile(
            "vpternlogd $0xff, %%zmm0, %%zmm0, %%zmm0\n\t vpternlogd $0xff, %%zmm1, %%zmm1, %%zmm1\n\t"
            "vpternlogd $0xff, %%zmm15, %%zmm15, %%zmm15\n\t vpternlogd $0xff, %%zmm16, %%zmm16, %%zmm16\n\t"
            "vpternlogd $0xff, %%zmm24, %%zmm24, %%zmm24\n\t vpternlogd $0xff, %%zmm31, %%zmm31, %%zmm31\n\t"
            "kxnorw %%k0, %%k0, %%k1\n\t kxnorw %%k0, %%k0, %%k2\n\t kxnorw %%k0, %%k0, %%k7\n\t"
            : : : "memory");
}

static long hook_function(long a1, long a2, long a3, long a4, long a5, long a6, long a7)
{
    clobber();
    long r = next_sys_call(a1, a2, a3, a4, a5, a6, a7);
    clobber();
    return r;
}

int __hook_init(long placeholder __attribute__((unused)), void *sys_call_hook_ptr)
{
    unsigned a, b, c, d;
    __cpuid(1, a, b, c, d);
    int osx = (c >> 27) & 1;
    uint64_t xcr0 = 0;
    if (osx) { unsigned lo, hi; __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0)); xcr0 = ((uint64_t)hi << 32) | lo; }
    have_avx = osx && ((c >> 28) & 1) && (xcr0 & 6) == 6;
    __cpuid_count(7, 0, a, b, c, d);
    have_avx512 = have_avx && ((b >> 16) & 1) && (xcr0 & 0xe0) == 0xe0;
    next_sys_call = *((syscall_fn_t *)sys_call_hook_ptr);
    *((syscall_fn_t *)sys_call_hook_ptr) = hook_function;
    return 0;
}
