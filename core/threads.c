/* The registry of the process's threads: every live per-thread control block
 * (core/tcb.h), so that a change every thread must see (the fast path's number table)
 * reaches them all, and so that rewriting knows
 * whether the process is single-threaded. sud/thread.c creates the blocks and
 * registers them; a thread's exit removes its block. An intrusive list: no cap. */
#include "core/core.h"

static struct tl_tcb *head;
static int lock;
static int nthreads; /* registered control blocks */
static int pending; /* threads cloned that have not registered yet */

/* 1 if this is the only thread of the process that runs. No other can appear meanwhile:
 * only a running thread can create one, and it counts the child as pending before clone.
 * In a vfork child (vfork, posix_spawn) the thread that vforked it is registered but
 * suspended until the child execs or exits (and so is that one's vfork parent, if it is a
 * vfork child too): it runs no instruction meanwhile, so it does not count. Otherwise
 * every site a posix_spawn'd child rewrote before its exec cost a membarrier
 * registration, which waits for an RCU grace period (10 ms on a loaded machine). */
int tl_threads_alone(void)
{
    int n = __atomic_load_n(&nthreads, __ATOMIC_ACQUIRE) + __atomic_load_n(&pending, __ATOMIC_ACQUIRE);
    if (n <= 1) return 1;
    for (struct tl_tcb *t = tl_self(); t && t->vfork_child && n > 1; t = t->vfork_parent) n--;
    return n <= 1;
}

void tl_threads_pending(int delta) { __atomic_add_fetch(&pending, delta, __ATOMIC_ACQ_REL); }

/* Until no thread is being created: a new thread's first steps read its creator's block
 * (tl_thread_child_init: %gs is still the creator's) and stop counting as pending only
 * after, so a thread that is about to unmap its block waits here first (the main thread
 * that calls pthread_exit right after pthread_create). */
void tl_threads_settle(void)
{
    while (__atomic_load_n(&pending, __ATOMIC_ACQUIRE) > 0)
        if (!tl_seccomp_allows(SYS_sched_yield, 0, 0, 0) || tl_sys0(SYS_sched_yield)) __builtin_ia32_pause();
}

void tl_tcb_register(struct tl_tcb *t)
{
    tl_spin_lock(&lock);
    t->reg_prev = 0;
    t->reg_next = head;
    if (head) head->reg_prev = t;
    head = t;
    nthreads++;
    tl_spin_unlock(&lock);
}

void tl_tcb_unregister(struct tl_tcb *t)
{
    tl_spin_lock(&lock);
    if (t->reg_prev)
        t->reg_prev->reg_next = t->reg_next;
    else if (head == t)
        head = t->reg_next;
    if (t->reg_next) t->reg_next->reg_prev = t->reg_prev;
    t->reg_prev = t->reg_next = 0;
    nthreads--;
    tl_spin_unlock(&lock);
}

/* fn(t, arg) for every registered thread, under the registry's lock (fn must not block
 * or call into the registry) */
void tl_threads_each(void (*fn)(struct tl_tcb *, void *), void *arg)
{
    tl_spin_lock(&lock);
    for (struct tl_tcb *t = head; t; t = t->reg_next) fn(t, arg);
    tl_spin_unlock(&lock);
}

static void refresh(struct tl_tcb *t, void *arg)
{
    (void)arg;
    for (unsigned n = 0; n < sizeof t->special; n++) __atomic_store_n(&t->special[n], tl_special[n], __ATOMIC_RELAXED);
}

/* Every registered thread takes the current tl_special (after the hook loaded: a thread
 * its set-up started copied the table before the hook's bit was set). Bytes only gain
 * bits here, so a thread reading its table meanwhile sees the old or the new value. */
void tl_tcbs_refresh_special(void) { tl_threads_each(refresh, 0); }

/* In a fork child: only the calling thread exists (the others' blocks are copies that
 * nothing uses). */
void tl_threads_after_fork(struct tl_tcb *self)
{
    lock = 0;
    self->reg_prev = self->reg_next = 0;
    head = self;
    nthreads = 1;
    pending = 0;
}
