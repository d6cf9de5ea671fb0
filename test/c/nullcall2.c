/* Calls and jumps through NULL and small pointers, in every register and through memory
 * (nullcall2.S): each must fault as without trapline. One line per case: the stub, the
 * target, and what the SIGSEGV handler saw (si_addr, si_code, rip, rsp relative to the
 * stack pointer before the transfer, the value at rsp, every general register, flags).
 * Pointers into this program print symbolically, so lines compare across runs (ASLR). */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

extern uint64_t nc_regs[16], nc_stub, nc_saved_rsp, nc_ptr;
extern char nc_stubs_lo[], nc_stubs_hi[];
void nc_run(void);
#define S(n) extern char n[];
S(nc_call_rax) S(nc_call_rcx) S(nc_call_rdx) S(nc_call_rbx) S(nc_call_rbp) S(nc_call_rsi) S(nc_call_rdi)
S(nc_call_r8) S(nc_call_r9) S(nc_call_r10) S(nc_call_r11) S(nc_call_r12) S(nc_call_r13) S(nc_call_r14) S(nc_call_r15)
S(nc_jmp_rax) S(nc_jmp_rcx) S(nc_jmp_rdx) S(nc_jmp_rbx) S(nc_jmp_rbp) S(nc_jmp_rsi) S(nc_jmp_rdi)
S(nc_jmp_r8) S(nc_jmp_r9) S(nc_jmp_r10) S(nc_jmp_r11) S(nc_jmp_r12) S(nc_jmp_r13) S(nc_jmp_r14) S(nc_jmp_r15)
S(nc_call_rip) S(nc_call_mrbx) S(nc_call_mr13d8) S(nc_call_mr12d32) S(nc_call_sib) S(nc_call_mrsp) S(nc_call_seg)
S(nc_jmp_rip) S(nc_jmp_mrbx) S(nc_ret)

struct stub { const char *name; char *at; int reg; };   /* reg: register holding the target, -1: memory */
static const struct stub stubs[] = {
    { "call rax", nc_call_rax, 0 }, { "call rcx", nc_call_rcx, 1 }, { "call rdx", nc_call_rdx, 2 },
    { "call rbx", nc_call_rbx, 3 }, { "call rbp", nc_call_rbp, 5 }, { "call rsi", nc_call_rsi, 6 },
    { "call rdi", nc_call_rdi, 7 }, { "call r8", nc_call_r8, 8 }, { "call r9", nc_call_r9, 9 },
    { "call r10", nc_call_r10, 10 }, { "call r11", nc_call_r11, 11 }, { "call r12", nc_call_r12, 12 },
    { "call r13", nc_call_r13, 13 }, { "call r14", nc_call_r14, 14 }, { "call r15", nc_call_r15, 15 },
    { "jmp rax", nc_jmp_rax, 0 }, { "jmp rcx", nc_jmp_rcx, 1 }, { "jmp rdx", nc_jmp_rdx, 2 },
    { "jmp rbx", nc_jmp_rbx, 3 }, { "jmp rbp", nc_jmp_rbp, 5 }, { "jmp rsi", nc_jmp_rsi, 6 },
    { "jmp rdi", nc_jmp_rdi, 7 }, { "jmp r8", nc_jmp_r8, 8 }, { "jmp r9", nc_jmp_r9, 9 },
    { "jmp r10", nc_jmp_r10, 10 }, { "jmp r11", nc_jmp_r11, 11 }, { "jmp r12", nc_jmp_r12, 12 },
    { "jmp r13", nc_jmp_r13, 13 }, { "jmp r14", nc_jmp_r14, 14 }, { "jmp r15", nc_jmp_r15, 15 },
    { "call *ptr(%rip)", nc_call_rip, -1 }, { "call *(%rbx)", nc_call_mrbx, -1 },
    { "call *8(%r13)", nc_call_mr13d8, -1 }, { "call *0x1000(%r12)", nc_call_mr12d32, -1 },
    { "call *(%rbx,%rcx,8)", nc_call_sib, -1 }, { "call *(%rsp)", nc_call_mrsp, -1 },
    { "notrack call *%ds:(%rbx)", nc_call_seg, -1 },
    { "jmp *ptr(%rip)", nc_jmp_rip, -1 }, { "jmp *(%rbx)", nc_jmp_mrbx, -1 }, { "ret", nc_ret, -1 },
};

static sigjmp_buf env;
static volatile int faulted;
static char line[1024];

static void sym(char *out, size_t n, uint64_t v)
{
    if (v == (uint64_t)&nc_ptr) snprintf(out, n, "&ptr");
    else if (v == (uint64_t)&nc_ptr - 8) snprintf(out, n, "&ptr-8");
    else if (v == (uint64_t)&nc_ptr - 0x1000) snprintf(out, n, "&ptr-0x1000");
    else if (v >= (uint64_t)nc_stubs_lo && v < (uint64_t)nc_stubs_hi) snprintf(out, n, "stubs+%#llx", (unsigned long long)(v - (uint64_t)nc_stubs_lo));
    else snprintf(out, n, "%#llx", (unsigned long long)v);
}

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    ucontext_t *uc = ucv;
    greg_t *g = uc->uc_mcontext.gregs;
    static const int order[16] = { REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
                                   REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15 };
    char v[32], top[32];
    uint64_t rsp = (uint64_t)g[REG_RSP];
    sym(top, sizeof top, *(uint64_t *)rsp);
    int k = snprintf(line, sizeof line, "addr=%p code=%d rip=%#llx rsp=%+lld [rsp]=%s flags=%#llx", si->si_addr, si->si_code,
                     (unsigned long long)g[REG_RIP], (long long)(rsp - nc_saved_rsp), top,
                     (unsigned long long)(g[REG_EFL] & 0xcd5));
    for (int i = 0; i < 16; i++) {
        if (i == 4) continue;
        sym(v, sizeof v, (uint64_t)g[order[i]]);
        k += snprintf(line + k, sizeof line - (size_t)k, " r%d=%s", i, v);
    }
    faulted = 1;
    siglongjmp(env, 1);
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, 0);
    static const uint64_t targets[] = { 0, 1, 4, 5, 6, 7, 8, 10, 11, 39, 100, 511, 512, 1000, 2047, 4087, 4088, 4091, 4095 };
    static const uint64_t rax_vals[] = { 0x1111111111111111ull, 39, 110 };
    for (size_t s = 0; s < sizeof stubs / sizeof stubs[0]; s++)
        for (size_t t = 0; t < sizeof targets / sizeof targets[0]; t++)
            for (size_t a = 0; a < 3; a++) {
                if (stubs[s].reg == 0 && a) continue;
                for (int i = 0; i < 16; i++) nc_regs[i] = 0x0101010101010101ull * (uint64_t)(i + 0x20);
                nc_regs[0] = rax_vals[a];
                nc_ptr = targets[t];
                if (stubs[s].reg >= 0) nc_regs[stubs[s].reg] = targets[t];
                else {
                    nc_regs[3] = (uint64_t)&nc_ptr;
                    nc_regs[13] = (uint64_t)&nc_ptr - 8;
                    nc_regs[12] = (uint64_t)&nc_ptr - 0x1000;
                    nc_regs[1] = 0;
                }
                nc_stub = (uint64_t)stubs[s].at;
                faulted = 0;
                if (sigsetjmp(env, 1) == 0) nc_run();
                printf("%s -> %llu (rax %#llx): %s\n", stubs[s].name, (unsigned long long)targets[t],
                       (unsigned long long)rax_vals[a], faulted ? line : "no fault");
            }
    return 0;
}
