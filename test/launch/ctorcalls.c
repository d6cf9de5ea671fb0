/* ctorcalls: system calls from every kind of code that runs before main, to check that a
 * hook is loaded before any of it (docs/hooks.md, "From which point a hook is called").
 *
 * Built twice from this file (CMakeLists.txt, launch fixtures):
 *   libctordep.so (CTOR_LIB)  a DT_NEEDED library of ctorcalls; with CTOR_NAME "pre" it is
 *                             also libctorpre.so, which the test names in LD_PRELOAD
 *   ctorcalls                 the program: .preinit_array, a constructor, main
 * Each piece makes getppid a known number of times (dep 2, pre 3, preinit 4, constructor
 * 5, main 6: 20 in all) and prints what getuid returned to it: a hook that makes getuid
 * answer 31337 (test/hooks/counthook.c) shows in every line it was loaded before. main
 * then prints the size of the program's malloc heap: 0, as nothing allocated. */
#include <malloc.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static void calls(const char *who, int n)
{
    for (int i = 0; i < n; i++) syscall(SYS_getppid);
    /* stderr: unbuffered, so a line printed before main is not held in stdout's buffer */
    fprintf(stderr, "ctorcalls %s: uid=%ld\n", who, syscall(SYS_getuid));
}

#ifdef CTOR_LIB
__attribute__((constructor)) static void lib_init(void) { calls(CTOR_NAME, CTOR_N); }
__attribute__((visibility("default"))) int ctordep_value(void) { return 7; }
#else
int ctordep_value(void);
static void preinit(void) { calls("preinit", 4); }
__attribute__((section(".preinit_array"), used)) static void (*const preinit_entry)(void) = preinit;
__attribute__((constructor)) static void init(void) { calls("constructor", 5); }
int main(void)
{
    calls("main", 6);
    /* nothing here allocates (stderr is unbuffered): natively the heap is untouched, and a
     * hook's loading must leave it so (sud/boot.c keeps the loader off the program's heap) */
    fprintf(stderr, "ctorcalls heap: arena=%zu\n", mallinfo2().arena);
    return ctordep_value() == 7 ? 0 : 1;
}
#endif
