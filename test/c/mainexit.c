/* The main thread creates threads and calls pthread_exit at once: a new thread's first
 * steps under trapline read its creator's control block, which the creator's exit unmaps
 * (it must wait for them). Each thread prints one line; the process exits 0 once the last
 * one returns. Prints "thread <i>" for i in 0..15, in any order. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#define N 16

static void *thread(void *arg)
{
    printf("thread %ld\n", (long)arg);
    return 0;
}

int main(void)
{
    setvbuf(stdout, 0, _IONBF, 0);
    for (long i = 0; i < N; i++) {
        pthread_t t;
        if (pthread_create(&t, 0, thread, (void *)i)) return 1;
        pthread_detach(t);
    }
    pthread_exit(0);
}
