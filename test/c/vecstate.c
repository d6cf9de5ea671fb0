/* Vector state held across intercepted system calls, for each combination of what is in
 * use: the upper ymm halves (AVX), the upper zmm halves (ZMM_Hi256), zmm16-31
 * (Hi16_ZMM), k1-k7 (opmask), each with the x87 unit empty, holding one value, holding
 * eight (its stack pointer back at 0) or holding MMX state (mm0; stack pointer 0, every
 * register full). Each scenario starts from the initial state of every component (XRSTOR
 * of an all-zero header), loads what it uses, makes the same `syscall` (getppid) three
 * times (a trap, then the rewritten site) and checks that every register holds what was
 * loaded and every component not loaded is still zero, as well as MXCSR and the x87
 * control, status and tag words. Then, when the CPU has AMX, a tile register across the
 * same calls (else a line says why it is skipped). Prints "ok N" or the first mismatch;
 * natively and interposed (with any hook) the output must be the same. */
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <cpuid.h>
#include <unistd.h>
#include <sys/syscall.h>

#define U_AVX 1
#define U_ZMM 2
#define U_HI16 4
#define U_K 8
#define X_NONE 0
#define X_ONE 1
#define X_EIGHT 2
#define X_MMX 3

uint8_t pat[32][64] __attribute__((aligned(64)));
uint64_t kpat[8];
long double x87in[8];
uint8_t init_area[4096] __attribute__((aligned(64)));
struct out {
    uint8_t z[32][64];
    uint64_t k[8];
    uint32_t mxcsr;
    uint8_t env[28];
    long double x87[8];
    uint64_t mm0;
} __attribute__((aligned(64)));
struct out o;
/* the offsets the assembly below writes at */
_Static_assert(offsetof(struct out, k) == 2048 && offsetof(struct out, mxcsr) == 2112 && offsetof(struct out, env) == 2116 &&
                   offsetof(struct out, x87) == 2144 && offsetof(struct out, mm0) == 2144 + 128,
               "layout");
uint32_t mxcsr_in = 0x5fa5; /* round up, flush to zero, some exception flags */
uint32_t mxcsr_def = 0x1f80;
static uint64_t xcr0, xmask; /* xmask: what XRSTOR resets: x87, SSE, AVX, AVX-512 as enabled */
int have_avx, have_avx512, have_bw;

static void scenario(int use, int x87)
{
    uint32_t lo = (uint32_t)xmask, hi = (uint32_t)(xmask >> 32);
    __asm__ volatile(
        "xrstor64 init_area(%%rip)\n\t"
        "ldmxcsr mxcsr_in(%%rip)\n\t"
        "lea pat(%%rip), %%r8\n\t"
        ".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n\t movdqu (64 * \\i)(%%r8), %%xmm\\i\n\t .endr\n\t"
        "testl $1, %[use]\n\t jz 1f\n\t"
        ".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n\t vmovdqu (64 * \\i)(%%r8), %%ymm\\i\n\t .endr\n\t"
        "1: testl $2, %[use]\n\t jz 1f\n\t"
        ".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n\t vmovdqu64 (64 * \\i)(%%r8), %%zmm\\i\n\t .endr\n\t"
        "1: testl $4, %[use]\n\t jz 1f\n\t"
        ".irp i,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n\t vmovdqu64 (64 * \\i)(%%r8), %%zmm\\i\n\t .endr\n\t"
        "1: testl $8, %[use]\n\t jz 1f\n\t"
        "lea kpat(%%rip), %%r9\n\t"
        ".irp i,1,2,3,4,5,6,7\n\t kmovq (8 * \\i)(%%r9), %%k\\i\n\t .endr\n\t"
        "1: lea x87in(%%rip), %%r9\n\t"
        "cmpl $1, %[x87]\n\t jne 1f\n\t fldt (%%r9)\n\t jmp 2f\n\t"
        "1: cmpl $2, %[x87]\n\t jne 1f\n\t"
        ".irp i,0,1,2,3,4,5,6,7\n\t fldt (16 * \\i)(%%r9)\n\t .endr\n\t jmp 2f\n\t"
        "1: cmpl $3, %[x87]\n\t jne 2f\n\t movq kpat(%%rip), %%mm0\n\t"
        "2: mov $3, %%r10d\n\t"
        "3: mov $110, %%eax\n\t syscall\n\t dec %%r10d\n\t jnz 3b\n\t"
        "lea o(%%rip), %%r8\n\t"
        "cmpl $0, have_avx512(%%rip)\n\t je 1f\n\t"
        ".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31\n\t"
        " vmovdqu64 %%zmm\\i, (64 * \\i)(%%r8)\n\t .endr\n\t"
        "cmpl $0, have_bw(%%rip)\n\t je 2f\n\t"
        ".irp i,0,1,2,3,4,5,6,7\n\t kmovq %%k\\i, (2048 + 8 * \\i)(%%r8)\n\t .endr\n\t jmp 2f\n\t"
        "1: cmpl $0, have_avx(%%rip)\n\t je 1f\n\t"
        ".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n\t vmovdqu %%ymm\\i, (64 * \\i)(%%r8)\n\t .endr\n\t jmp 2f\n\t"
        "1: .irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n\t movdqu %%xmm\\i, (64 * \\i)(%%r8)\n\t .endr\n\t"
        "2: stmxcsr 2112(%%r8)\n\t fnstenv 2116(%%r8)\n\t"
        "lea 2144(%%r8), %%r9\n\t"
        "cmpl $1, %[x87]\n\t jne 1f\n\t fstpt (%%r9)\n\t jmp 2f\n\t"
        "1: cmpl $2, %[x87]\n\t jne 1f\n\t"
        ".irp i,0,1,2,3,4,5,6,7\n\t fstpt (16 * \\i)(%%r9)\n\t .endr\n\t jmp 2f\n\t"
        "1: cmpl $3, %[x87]\n\t jne 2f\n\t movq %%mm0, 128(%%r9)\n\t emms\n\t"
        "2: xrstor64 init_area(%%rip)\n\t ldmxcsr mxcsr_def(%%rip)\n\t"
        :
        : [use] "r"(use), [x87] "r"(x87), "a"(lo), "d"(hi)
        : "rcx", "r8", "r9", "r10", "r11", "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
          "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

static int check(int use, int x87)
{
    char what[96];
    snprintf(what, sizeof what, "avx %d zmm %d hi16 %d k %d x87 %s", !!(use & U_AVX), !!(use & U_ZMM), !!(use & U_HI16),
             !!(use & U_K), (const char *[]){"empty", "one value", "eight values", "mmx"}[x87]);
    int nregs = have_avx512 ? 32 : 16, width = have_avx512 ? 64 : have_avx ? 32 : 16;
    for (int i = 0; i < nregs; i++)
        for (int b = 0; b < width; b++) {
            int loaded = i < 16 ? (b < 16 || (b < 32 && (use & (U_AVX | U_ZMM))) || (use & U_ZMM)) : !!(use & U_HI16);
            uint8_t want = loaded ? pat[i][b] : 0;
            if (o.z[i][b] != want) {
                printf("%s: register %d byte %d is %02x, not %02x\n", what, i, b, o.z[i][b], want);
                return 1;
            }
        }
    if (have_avx512 && have_bw)
        for (int i = 0; i < 8; i++) {
            uint64_t want = (use & U_K) && i ? kpat[i] : 0;
            if (o.k[i] != want) {
                printf("%s: k%d is %llx, not %llx\n", what, i, (unsigned long long)o.k[i], (unsigned long long)want);
                return 1;
            }
        }
    if (o.mxcsr != mxcsr_in) {
        printf("%s: MXCSR %x, not %x\n", what, o.mxcsr, mxcsr_in);
        return 1;
    }
    uint16_t fcw, fsw, ftw;
    memcpy(&fcw, o.env, 2);
    memcpy(&fsw, o.env + 4, 2);
    memcpy(&ftw, o.env + 8, 2);
    uint16_t want_fsw = x87 == X_ONE ? 7 << 11 : 0;
    /* tags: empty 3, valid 0; MMX registers may read as special or zero, never empty */
    uint16_t want_ftw = x87 == X_NONE ? 0xffff : x87 == X_ONE ? 0x3fff : 0;
    int none_empty = 1;
    for (int i = 0; i < 8; i++) none_empty &= ((ftw >> (2 * i)) & 3) != 3;
    if (fcw != 0x37f || (fsw & 0x7fff) != want_fsw || (x87 != X_MMX && ftw != want_ftw) || (x87 == X_MMX && !none_empty)) {
        printf("%s: x87 control, status, tag words %x %x %x, not 37f %x %x\n", what, fcw, fsw, ftw, want_fsw, want_ftw);
        return 1;
    }
    if (x87 == X_ONE && o.x87[0] != x87in[0]) {
        printf("%s: x87 st(0) changed\n", what);
        return 1;
    }
    if (x87 == X_EIGHT)
        for (int i = 0; i < 8; i++)
            if (o.x87[i] != x87in[7 - i]) {
                printf("%s: x87 st(%d) changed\n", what, i);
                return 1;
            }
    if (x87 == X_MMX && o.mm0 != kpat[0]) {
        printf("%s: mm0 is %llx, not %llx\n", what, (unsigned long long)o.mm0, (unsigned long long)kpat[0]);
        return 1;
    }
    return 0;
}

/* a tile register (AMX) across the calls; 0 when the CPU has none (a line says so) */
static int amx(void)
{
    unsigned a, b, c, d;
    __cpuid_count(7, 0, a, b, c, d);
    if (!((d >> 24) & 1) || (xcr0 >> 17 & 3) != 3) {
        printf("amx skipped: the CPU has no AMX (cpuid 7.0 edx bit 24) or the OS does not enable it\n");
        return 0;
    }
    if (syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XFEATURE_XTILEDATA */) != 0) {
        printf("amx skipped: the kernel refused tile data (arch_prctl ARCH_REQ_XCOMP_PERM)\n");
        return 0;
    }
    static uint8_t cfg[64] __attribute__((aligned(64)));
    static uint8_t in[16][64] __attribute__((aligned(64))), out[16][64] __attribute__((aligned(64)));
    cfg[0] = 1; /* palette 1 */
    cfg[16] = 64; /* tile 0: 64 bytes a row */
    cfg[48] = 16; /* 16 rows */
    for (int r = 0; r < 16; r++)
        for (int i = 0; i < 64; i++) in[r][i] = (uint8_t)(r * 64 + i + 7);
    __asm__ volatile("ldtilecfg %0\n\t"
                     "mov $64, %%rcx\n\t tileloadd (%1,%%rcx,1), %%tmm0\n\t"
                     "mov $3, %%r10d\n\t 3: mov $110, %%eax\n\t syscall\n\t dec %%r10d\n\t jnz 3b\n\t"
                     "mov $64, %%rcx\n\t tilestored %%tmm0, (%2,%%rcx,1)\n\t tilerelease"
                     :
                     : "m"(cfg), "r"(in), "r"(out)
                     : "rax", "rcx", "r10", "r11", "memory");
    if (memcmp(in, out, sizeof in) != 0) {
        printf("amx: tile 0 changed\n");
        return 1;
    }
    printf("amx ok\n");
    return 0;
}

int main(void)
{
    unsigned a, b, c, d;
    __cpuid(1, a, b, c, d);
    if (!((c >> 27) & 1)) {
        printf("skipped: no XSAVE\n");
        return 0;
    }
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    xcr0 = ((uint64_t)hi << 32) | lo;
    xmask = xcr0 & 0xe7;
    have_avx = ((c >> 28) & 1) && (xcr0 & 6) == 6;
    __cpuid_count(7, 0, a, b, c, d);
    have_avx512 = have_avx && ((b >> 16) & 1) && (xcr0 & 0xe0) == 0xe0;
    have_bw = (b >> 30) & 1;
    memcpy(init_area + 24, &mxcsr_def, 4); /* XRSTOR loads MXCSR from the legacy region */
    for (int i = 0; i < 32; i++)
        for (int j = 0; j < 64; j++) pat[i][j] = (uint8_t)(i * 64 + j + 1) | 1;
    for (int i = 0; i < 8; i++) {
        kpat[i] = 0x0123456789abcdefull * (uint64_t)(i + 3);
        x87in[i] = 1.5L + i;
    }
    int n = 0;
    for (int use = 0; use < 16; use++) {
        if ((use & U_AVX) && !have_avx) continue;
        if ((use & (U_ZMM | U_HI16 | U_K)) && !have_avx512) continue;
        if ((use & U_K) && !have_bw) continue;
        for (int x87 = X_NONE; x87 <= X_MMX; x87++) {
            memset(&o, 0, sizeof o);
            scenario(use, x87);
            if (check(use, x87)) return 1;
            n++;
        }
    }
    if (amx()) return 1;
    printf("ok %d\n", n);
    return 0;
}
