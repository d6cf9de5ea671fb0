/* Start-up cost: runs a command N times (posix_spawn + waitpid, stdout and stderr to
 * /dev/null) and prints the best and the median wall time per run over R rounds.
 * usage: startup N R [VAR=VALUE...] -- PROG [ARGS...]
 * The VAR=VALUE settings go into the children's environment only (this driver itself
 * is never interposed), on top of the inherited one.
 * Output: "rounds_ns <ns> ...\nbest_ns <ns>\nmedian_ns <ns>\n" (per run: each round's, in
 * order, then the best and the median). Exit 1 if any run fails. */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc < 5) { fprintf(stderr, "usage: startup N R [VAR=VALUE...] -- PROG [ARGS...]\n"); return 2; }
    int n = atoi(argv[1]), rounds = atoi(argv[2]);
    int prog = 3;
    while (prog < argc && strcmp(argv[prog], "--") != 0) prog++;
    if (prog + 1 >= argc) { fprintf(stderr, "startup: no program after --\n"); return 2; }
    int nenv = 0;
    while (environ[nenv]) nenv++;
    char **env = calloc((size_t)(nenv + prog + 1), sizeof *env);
    int k = 0;
    for (int i = 3; i < prog; i++) env[k++] = argv[i];
    for (int i = 0; i < nenv; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t len = eq ? (size_t)(eq - environ[i]) + 1 : strlen(environ[i]);
        int over = 0;
        for (int j = 3; j < prog; j++) if (strncmp(argv[j], environ[i], len) == 0) over = 1;
        if (!over) env[k++] = environ[i];
    }
    env[k] = 0;
    prog++;
    if (n < 1 || rounds < 1 || rounds > 64) { fprintf(stderr, "startup: bad N or R\n"); return 2; }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    double per[64];
    for (int r = 0; r < rounds; r++) {
        double t0 = now();
        for (int i = 0; i < n; i++) {
            pid_t pid;
            int st;
            if (posix_spawnp(&pid, argv[prog], &fa, 0, argv + prog, env) != 0) { perror("posix_spawnp"); return 1; }
            if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                fprintf(stderr, "startup: %s failed (status 0x%x)\n", argv[prog], st);
                return 1;
            }
        }
        per[r] = (now() - t0) / n;
    }
    printf("rounds_ns");
    for (int r = 0; r < rounds; r++) printf(" %.0f", per[r]);
    printf("\n");
    qsort(per, rounds, sizeof per[0], cmp);
    printf("best_ns %.0f\nmedian_ns %.0f\n", per[0], per[rounds / 2]);
    return 0;
}
