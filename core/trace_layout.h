/* trapline trace segment: binary layout, version 1 (docs/policies.md, "The ring format").
 *
 * The segment is a file the control plane (ts/src/trace.ts) creates for one run, mode
 * 0600, in a private directory, and names in the policy file (TRAPLINE_POLICY, core/policy.c:
 * "ring PATH COOKIE"). Every interposed process of the run that traces joins it: it checks
 * owner, mode, size, magic, version, geometry and the cookie (tl_trace_check) and maps it
 * MAP_SHARED. Each thread that records a call claims a ring of its own; the reader (the
 * TypeScript side) consumes records while the program runs, with pread at offsets, and
 * gives the room back by writing the ring's tail with pwrite.
 *
 * The file is created sparse. A process allocates what it writes before writing it
 * (madvise MADV_POPULATE_WRITE: the header, control blocks and module table when it joins,
 * a ring when it claims it), so a full file system is an error reported then, never a
 * SIGBUS at a record's write; on a kernel without it the first process allocates the
 * whole file (fallocate).
 *
 * Geometry (tl_trace_geom): the header; the ring control blocks (ring_count x 128 bytes)
 * at ring_off; the rings' data (ring_count x ring_size bytes, ring i at data_off + i x
 * ring_size) at data_off; the module table (module_cap records) at module_off. All
 * integers are little-endian and naturally aligned. This header is the one source of truth
 * for the TypeScript reader: ts/src/trace-layout.ts is generated from it (test/c/layout.c,
 * ts/scripts/gen-layout.mjs) and test/layout.test.ts fails if they differ.
 *
 * A ring: head and tail count bytes since the ring was first claimed (never wrap); the
 * record at byte h lies at data + (h mod ring_size). Records are 8-byte aligned and never
 * straddle the ring's end (a TL_REC_PAD record fills the rest of the ring instead). The
 * producer writes records, then publishes head (store-release); the reader reads [tail,
 * head), then writes tail. A producer whose ring has no room waits (lossless, the
 * default): FUTEX_WAIT on the low 32 bits of tail with a short timeout, re-reading tail,
 * and giving up (dropping, counted) only once the reader is gone. In lossy mode it drops
 * at once and counts. */
#ifndef TRAPLINE_TRACE_LAYOUT_H
#define TRAPLINE_TRACE_LAYOUT_H
#include <stdint.h>

#define TL_TRACE_MAGIC "TLTRACE\0" /* 8 bytes */
#define TL_TRACE_VERSION 1u
#define TL_TRACE_RING_MIN (64u << 10) /* ring_size: a power of two in [MIN, MAX] */
#define TL_TRACE_RING_MAX (64u << 20)
#define TL_TRACE_RINGS_MAX 4096u /* ring_count: 1..RINGS_MAX */
#define TL_TRACE_MODULES_MAX 65536u /* module_cap: 1..MODULES_MAX */
#define TL_TRACE_PATH 512u /* bytes of a module path (NUL-terminated, truncated) */
#define TL_TRACE_PATH_MAX 4096u /* bytes of a path argument captured (PATH_MAX, as strace) */
#define TL_TRACE_STRSIZE_MAX (1u << 20) /* the largest -s STRSIZE */
#define TL_TRACE_DATA_MAX 4u /* captured items per record */
#define TL_TRACE_BIG_MAX 32768u /* bytes of an argv, iovec-array or dirents item */
#define TL_TRACE_SOCKADDR_MAX 128u /* bytes of a sockaddr captured (sizeof(struct sockaddr_storage)) */
#define TL_TRACE_ALIGN 8u /* records and items are padded to this */
#define TL_TRACE_NO_MODULE 0xffffffffu /* tl_trace_rec.module: anonymous memory, or unknown */

/* header.flags */
#define TL_TRACE_F_ALLOCATED 1u /* the whole file's blocks were allocated (kernels without MADV_POPULATE_WRITE) */
#define TL_TRACE_F_CLOSED 2u /* the reader stopped reading (the run is over): records are dropped */
#define TL_TRACE_F_READER_GONE 4u /* a producer found the reader dead: records are dropped, counted */

struct tl_trace_header {
    char magic[8]; /* TL_TRACE_MAGIC */
    uint32_t version; /* TL_TRACE_VERSION */
    uint32_t header_size; /* sizeof(struct tl_trace_header) */
    uint64_t total_size; /* bytes of the whole file */
    uint64_t cookie; /* random, nonzero: the policy file names it; processes join only with it */
    uint32_t ring_count; /* rings (one per thread that traces at a time) */
    uint32_t ring_size; /* bytes of each ring's data, a power of two */
    uint64_t ring_off; /* struct tl_ring_ctl[ring_count] */
    uint64_t data_off; /* ring data, ring_count x ring_size bytes */
    uint64_t module_off; /* struct tl_trace_module[module_cap] */
    uint32_t module_cap;
    uint32_t module_count; /* records taken (the reader reads those with ready set) */
    uint32_t flags; /* TL_TRACE_F_* */
    uint32_t reader_pid; /* the reader's process (its liveness is checked before giving up) */
    uint64_t heartbeat; /* the reader adds 1 at every poll */
    uint32_t rings_used; /* ring slots ever claimed (the reader reads the control blocks below it) */
    uint32_t reserved0;
    uint64_t dropped; /* records dropped: lossy mode, no free ring, reader gone */
    uint64_t waits; /* times a thread found its ring full and waited (lossless) */
    uint64_t wait_ns; /* the time it waited in all */
    uint64_t reserved[5];
};

enum tl_ring_state {
    TL_RING_FREE = 0, /* the reader frees a ring once it has read it all */
    TL_RING_USED = 1, /* owned by thread tid of process pid */
    TL_RING_CLOSED = 2, /* its thread or process ended: read it all, then free it */
};

/* One per ring, 128 bytes: what the producer writes, then (its own cache line) the tail.
 * The reader's pread and pwrite copy bytes in no guaranteed order or width, so each
 * counter the other side reads is written twice (head then head_again; tail and
 * tail_again in one pwrite) and is believed only when both copies agree; a ring is freed
 * only once a poll has seen it closed and a later poll finds it read to its head. */
struct tl_ring_ctl {
    uint32_t state; /* enum tl_ring_state; FREE -> USED by compare-and-swap */
    uint32_t pid, tid; /* the owner */
    uint32_t pending; /* bytes of an execve record written at head and not committed:
                                   the program the call runs commits it (ret 0) into its own ring */
    uint64_t head; /* bytes committed */
    uint64_t head_again; /* head, stored after it */
    uint64_t dropped; /* records this ring's thread dropped */
    uint64_t reserved[3];
    uint64_t tail; /* offset 64: bytes the reader consumed; low 32 bits: the futex word */
    uint64_t tail_again; /* tail, written with it */
    uint64_t reserved2[6];
};

/* record types */
#define TL_REC_CALL 1u /* one call (struct tl_trace_rec, then its data items) */
#define TL_REC_PAD 2u /* skip size bytes (the rest of the ring, or an abandoned write) */

/* tl_trace_rec.flags */
#define TL_REC_I386 1u /* an int $0x80 call: nr is an i386 number, args ebx..ebp */
#define TL_REC_INJECTED 2u /* the result was injected (inject error= / retval=): not performed */
#define TL_REC_DENIED 4u /* denied (deny): not performed, ret = -errno */
#define TL_REC_NORETURN 8u /* the call does not return (exit, exit_group, a kill): ret means nothing */
#define TL_REC_KILLED 16u /* the process was killed at this call: deny kill (SIGSYS), inject signal=SIGKILL */
#define TL_REC_EXEC 32u /* an execve/execveat that succeeded: written by the new program */

/* One call. size counts this header, the items and their padding. */
struct tl_trace_rec {
    uint32_t size; /* bytes, a multiple of TL_TRACE_ALIGN */
    uint16_t type; /* TL_REC_* type */
    uint16_t flags; /* TL_REC_* flags */
    uint32_t pid, tid;
    int32_t nr; /* x86-64 number as the kernel takes it (32-bit) */
    uint32_t module; /* index into the module table, TL_TRACE_NO_MODULE */
    uint64_t offset; /* the site (address of its syscall instruction) - module base; the
                                   address itself without a module */
    uint64_t args[6]; /* rdi rsi rdx r10 r8 r9 as the program passed them */
    int64_t ret; /* what the program got back (-errno for an error) */
    uint64_t ts_ns; /* CLOCK_REALTIME at entry */
    uint64_t dur_ns; /* entry to return (delays and a hook included) */
    uint32_t lost_before; /* records this thread dropped just before this one */
    uint16_t ndata; /* data items that follow */
    uint16_t signal; /* the signal a rule sent at this call, else 0: inject signal= (sent to the
                                   thread after the call), deny kill (SIGSYS, TL_REC_KILLED) */
};

/* data item directions */
#define TL_DATA_IN 0u /* bytes the kernel reads (captured before the call) */
#define TL_DATA_OUT 1u /* bytes the kernel wrote (captured after it) */
/* tl_trace_data.flags */
#define TL_DATA_TRUNCATED 1u /* there was more than len bytes (strsize, or PATH_MAX for paths) */

struct tl_trace_data {
    uint8_t arg; /* argument index 0..5 */
    uint8_t dir; /* TL_DATA_IN / TL_DATA_OUT */
    uint16_t flags; /* TL_DATA_* */
    uint32_t len; /* bytes that follow, then padding to TL_TRACE_ALIGN */
};

/* A module calls were made from: its path (dedup'd by path across the run's processes). */
struct tl_trace_module {
    uint32_t ready; /* 1 once the record is complete (written last) */
    uint32_t origin; /* enum tl_origin (core/stats_layout.h) */
    uint32_t build_id_len; /* 0 if none was found */
    uint8_t build_id[20];
    char path[TL_TRACE_PATH]; /* NUL-terminated; "[vdso]" for the vDSO */
};

#endif
