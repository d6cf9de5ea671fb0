/* dlopen()s LIB after start-up and calls its dl_getppid N times. usage: dlsite LIB N */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 3) return 2;
    void *h = dlopen(argv[1], RTLD_NOW);
    if (!h) { printf("dlopen: %s\n", dlerror()); return 1; }
    long (*f)(void) = (long (*)(void))dlsym(h, "dl_getppid");
    long n = atol(argv[2]), first = f();
    for (long i = 1; i < n; i++) if (f() != first) return 1;
    printf("ok\n");
    return 0;
}
