/* JIT-style code changes after trapline rewrote a site:
 *  1. code with a syscall runs (and is rewritten); mprotect RW shows the original bytes;
 *  2. new code put there has a real `call *%rax` exactly where the syscall was: called
 *     with rax = 8 it must crash at address 8 as without trapline (not run syscall 8);
 *  3. munmap + mmap(MAP_FIXED) with the same new code: the same;
 *  4. the syscall code written back is learned again and works.
 * Prints a transcript compared with the uninterposed run. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

static const unsigned char SYSCALL_CODE[] = { 0x90, 0x90, 0x90, 0xb8, 0x6e, 0, 0, 0, 0x0f, 0x05, 0xc3 };   /* site at +8 */
static const unsigned char CALL_CODE[] = { 0x90, 0x90, 0x90, 0x90, 0x90, 0x48, 0x89, 0xf8, 0xff, 0xd0, 0xc3 }; /* call *%rax at +8 */
static sigjmp_buf jb;
static volatile void *fault_addr;
static void on_segv(int s, siginfo_t *si, void *uc) { (void)s; (void)uc; fault_addr = si->si_addr; siglongjmp(jb, 1); }
static long forty_two(void) { return 42; }

static void call_new_code(unsigned char *p, const char *what)
{
    long (*f)(long) = (long (*)(long))p;
    printf("%s: real function pointer -> %ld\n", what, f((long)forty_two));
    if (sigsetjmp(jb, 1) == 0) {
        long r = f(8);
        printf("%s: call *8 returned %ld (wrong)\n", what, r);
    } else {
        printf("%s: call *8 faulted at %p\n", what, (void *)fault_addr);
    }
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, 0);
    unsigned char *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memcpy(p, SYSCALL_CODE, sizeof SYSCALL_CODE);
    mprotect(p, 4096, PROT_READ | PROT_EXEC);
    long (*sys)(void) = (long (*)(void))p;
    long a = sys(), b = sys(), c = sys();
    printf("syscall code: %d\n", a == getppid() && b == a && c == a);
    mprotect(p, 4096, PROT_READ | PROT_WRITE);
    printf("bytes after mprotect RW: %02x %02x\n", p[8], p[9]);
    memcpy(p, CALL_CODE, sizeof CALL_CODE);
    mprotect(p, 4096, PROT_READ | PROT_EXEC);
    call_new_code(p, "rewritten in place");

    /* back to the syscall code, learned again */
    mprotect(p, 4096, PROT_READ | PROT_WRITE);
    memcpy(p, SYSCALL_CODE, sizeof SYSCALL_CODE);
    mprotect(p, 4096, PROT_READ | PROT_EXEC);
    a = sys(); b = sys();
    printf("syscall code again: %d\n", a == getppid() && b == a);

    /* unmap and map new code at the same address */
    munmap(p, 4096);
    unsigned char *q = mmap(p, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    memcpy(q, CALL_CODE, sizeof CALL_CODE);
    mprotect(q, 4096, PROT_READ | PROT_EXEC);
    call_new_code(q, "remapped");
    return 0;
}
