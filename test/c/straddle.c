/* glibc 2.36's __open64_nocancel has a `syscall` whose two bytes straddle a page (and so
 * a 64-byte line); opendir() reaches it. usage: straddle threaded|single
 * threaded: the first opendir runs while a second thread is alive (the site must stay on
 * the trap path: no atomic 2-byte store exists), the second after it ended (rewritten).
 * single: both opendir calls with one thread. Prints "ok <entries>" */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int gate[2];

static void *waiter(void *a)
{
    char c;
    (void)a;
    while (read(gate[0], &c, 1) < 0) {}
    return 0;
}

static int count_entries(void)
{
    DIR *d = opendir("/");
    if (!d) return -1;
    int n = 0;
    while (readdir(d)) n++;
    closedir(d);
    return n;
}

int main(int argc, char **argv)
{
    int threaded = argc > 1 && strcmp(argv[1], "threaded") == 0;
    pthread_t t;
    if (threaded) {
        if (pipe(gate) || pthread_create(&t, 0, waiter, 0)) return 2;
    }
    int a = count_entries();
    if (threaded) {
        if (write(gate[1], "x", 1) != 1 || pthread_join(t, 0)) return 2;
    }
    int b = count_entries();
    if (a < 0 || a != b) { printf("mismatch %d %d\n", a, b); return 1; }
    printf("ok %d\n", b);
    return 0;
}
