/* sud/: the process model (the top layer, above lazy/ and core/). What it offers:
 * start-up (init.c: the constructor that turns interposition on), Syscall User Dispatch
 * per thread and the control blocks of new threads (thread.c, clone.S), the SIGSYS and
 * SIGSEGV handlers and the program's view of its signals (signals.c), calls into page 0
 * (nullcall.c), the calls the process model performs itself (emulate.c: signals, clone,
 * fork, vfork, exit, the program's own SUD), exec (exec.c) and int $0x80 (i386.c,
 * entry_i386.S). It may include lazy/ and core/ headers. */
#ifndef TRAPLINE_SUD_H
#define TRAPLINE_SUD_H
#include "lazy/lazy.h"

/* ---- start-up (sud/init.c, sud/boot.c) */
HIDDEN void tl_start(void);

/* ---- entering a program at its first instruction (sud/inject.c, sud/boot.c) */
struct tl_inject {
    int helper, pidfd, fd;
};
HIDDEN int tl_inject_arm(struct tl_inject *h, const char *boot, char *const *settings); /* 0 or -errno */
HIDDEN void tl_inject_disarm(struct tl_inject *h);
/* what the file an exec would run is (sud/inject.c) */
struct tl_target {
    int readable; /* it could be opened and examined (else the exec decides: preload way) */
    int secure; /* set-user-ID, set-group-ID or file capabilities: a traced exec would
                      drop its privileges, so it is never traced */
    int foreign; /* an ELF file that is not an x86-64 program (32-bit, x32, ...) */
    int is_static; /* an x86-64 ELF program without PT_INTERP */
    int other_loader; /* its PT_INTERP is musl's ld-musl-*: no hook */
    int launcher; /* our own launcher (set by sud/exec.c) */
    uint64_t dev, ino;
};
HIDDEN struct tl_target tl_target_examine(long dirfd, const char *path, long flags);

/* ---- start-up (sud/init.c): tl_start, and its closing note once a hook is loaded */
HIDDEN void tl_start_note(void);

/* ---- the boot image's breakpoint in the program's dynamic loader (sud/boot.c): a hlt at
 * tl_loader_brk while armed; on_sigsegv (sud/signals.c) hands its faults to tl_loader_hit */
HIDDEN extern uint64_t tl_loader_brk;
HIDDEN extern int (*tl_loader_hit)(void *uc);

/* ---- exec (sud/exec.c) */
HIDDEN long tl_exec(long nr, long a1, long a2, long a3, long a4, long a5);
HIDDEN long tl_exec_i386(long nr, long a1, long a2, long a3, long a4, long a5);

/* ---- per-thread state (sud/thread.c, sud/clone.S) */
HIDDEN struct tl_tcb *tl_tcb_new(void);
HIDDEN uint64_t tl_tcb_reserve(uint64_t none); /* start-up: the main thread's block (sud/thread.c) */
HIDDEN void tl_tcb_install(struct tl_tcb *t);
HIDDEN int tl_sud_enable(struct tl_tcb *t); /* 0 or -errno */
HIDDEN void tl_thread_child_init(uint64_t clone_flags);
HIDDEN void tl_after_fork_child(void);
HIDDEN long tl_clone_thread(struct tl_frame *f, uint64_t child_sp, uint64_t clone_flags);
HIDDEN __attribute__((noreturn)) void tl_exit_thread(void *base, size_t len, long code, long nr);

/* ---- the calls the process model performs (sud/emulate.c): tl_up.emulate */
HIDDEN int tl_sud_emulate(struct tl_frame *f, long *ret, int *action);
HIDDEN long tl_do_clone(struct tl_frame *f, uint64_t flags, uint64_t child_sp);

/* ---- signals (sud/signals.c, sud/nullcall.c) */
HIDDEN int tl_signals_install(void);
/* TRAPLINE_SIGIGN=<pid>:... for an exec, written into buf (>= TL_SIGIGN_MAX bytes), or 0 */
#define TL_SIGIGN_MAX 48
HIDDEN const char *tl_signals_exec_setting(char *buf);
HIDDEN extern int tl_signals_none_caught; /* no handler can be installed yet: none is queried */
HIDDEN void tl_signals_adopt(void);
HIDDEN long tl_virt_sigaction(long sig, const struct tl_ksigaction *act, struct tl_ksigaction *old, long size);
HIDDEN long tl_virt_sigpending(uint64_t *set, long size);
HIDDEN long tl_virt_sigaltstack(const stack_t *ss, stack_t *old);
HIDDEN long tl_virt_sigprocmask(long how, const uint64_t *set, uint64_t *old, long size);
HIDDEN __attribute__((noreturn)) void tl_raise_null_call(struct tl_frame *f);
HIDDEN uint64_t tl_null_target(const struct tl_frame *f, uint64_t rcx, uint64_t r11, uint32_t group);
HIDDEN long tl_virt_sud(long mode, uint64_t off, uint64_t len, uint64_t sel);
HIDDEN int tl_signals_sigsys_noreturn(void);
HIDDEN int tl_app_sud_check(struct tl_frame *f);

/* ---- 32-bit calls: int $0x80 (sud/i386.c, sud/entry_i386.S) */
HIDDEN int tl_i386_trap(const siginfo_t *si, void *uc); /* 1: an i386 call, redirected */
HIDDEN long tl_dispatch_i386(struct tl_frame *f);
HIDDEN long tl_i386_perform_args(long nr, long a1, long a2, long a3, long a4, long a5, long a6);
HIDDEN int tl_i386_needs_frame(long nr);
HIDDEN extern char tl_i386_entry[];
HIDDEN long tl_clone_thread_i386(struct tl_frame *f, uint64_t child_sp, uint64_t clone_flags);
HIDDEN __attribute__((noreturn)) void tl_i386_resume_frame(struct tl_frame *f);

#endif
