/* Reading ELF images already mapped in the process (never the file): the build-id that
 * keys coverage records (core/coverage.c) and plans (lazy/plan.c). */
#include "core/core.h"
#include <elf.h>
#include <sys/mman.h>

/* GNU build-id of the x86-64 ELF file whose header is mapped at base (its PT_NOTE
 * segments read at base + vaddr, or at vaddr for ET_EXEC). Its length, 0 if none. */
uint32_t tl_elf_build_id(uint64_t base, uint8_t id[20])
{
    /* the header, program headers and notes normally lie in the first page: read it in
     * one call (as much of it as is mapped), and anything beyond it piece by piece */
    static uint8_t page[4096] TL_COLD;
    static int page_lock;
    tl_spin_lock(&page_lock);
    struct {
        void *b;
        size_t l;
    } local = {page, sizeof page}, remote = {(void *)base, sizeof page};
    long got = UNLIKELY(tl_seccomp_mode) && !tl_seccomp_allows(SYS_process_vm_readv, tl_pid, 0, 1)
        ? 0
        : tl_sys6(SYS_process_vm_readv, tl_pid, (long)&local, 1, (long)&remote, 1, 0);
    if (got < 0) got = 0;
#define READ(addr, out, n)                                                                                                         \
    ((addr) >= base && (addr)-base <= (uint64_t)got && (uint64_t)got - ((addr)-base) >= (n)                                        \
         ? (memcpy((out), page + ((addr)-base), (n)), 1)                                                                           \
         : tl_safe_read((addr), (out), (n)))
    uint32_t found = 0;
    Elf64_Ehdr eh;
    if (!READ(base, &eh, sizeof eh) || eh.e_ident[0] != 0x7f || eh.e_ident[1] != 'E' || eh.e_ident[2] != 'L' ||
        eh.e_ident[3] != 'F' || eh.e_machine != EM_X86_64 || eh.e_phnum > 64)
        goto out;
    Elf64_Phdr phs[64];
    if (!READ(base + eh.e_phoff, phs, eh.e_phnum * sizeof phs[0])) goto out;
    for (int i = 0; i < eh.e_phnum && !found; i++) {
        const Elf64_Phdr ph = phs[i];
        if (ph.p_type != PT_NOTE) continue;
        uint64_t at = eh.e_type == ET_EXEC ? ph.p_vaddr : base + ph.p_vaddr, end = at + ph.p_memsz;
        while (at + 12 <= end) {
            uint32_t nh[3];
            if (!READ(at, nh, 12)) break;
            uint64_t desc = at + 12 + ((nh[0] + 3) & ~3u);
            if (nh[2] == NT_GNU_BUILD_ID && nh[0] == 4 && nh[1] >= 1 && nh[1] <= 20) {
                found = READ(desc, id, nh[1]) ? nh[1] : 0;
                break;
            }
            at = desc + ((nh[1] + 3) & ~3u);
        }
    }
#undef READ
out:
    tl_spin_unlock(&page_lock);
    return found;
}

/* The address of the dynamic symbol `name` defined by the ELF image loaded at base, whose
 * dynamic section is at dyn; 0 if it has none. Its default version (name@@VERSION) is
 * preferred over hidden ones (name@VERSION). The dynamic section's addresses are taken as
 * they are found: offsets from base before the dynamic loader has run, absolute after it
 * (glibc's loader adjusts them in place). Lookup by DT_GNU_HASH, or DT_HASH. Only for
 * images the process has mapped and nobody is unmapping (the dynamic loader, libc). */
uint64_t tl_elf_symbol(uint64_t base, const void *dynamic, const char *name)
{
    uint64_t symtab = 0, strtab = 0, gnuhash = 0, hash = 0, versym = 0;
    for (const Elf64_Dyn *d = (const Elf64_Dyn *)dynamic; d && d->d_tag != DT_NULL; d++) {
        uint64_t v = d->d_un.d_ptr;
        if (d->d_tag != DT_SYMTAB && d->d_tag != DT_STRTAB && d->d_tag != DT_GNU_HASH && d->d_tag != DT_HASH &&
            d->d_tag != DT_VERSYM)
            continue;
        if (v < base) v += base;
        if (d->d_tag == DT_SYMTAB)
            symtab = v;
        else if (d->d_tag == DT_STRTAB)
            strtab = v;
        else if (d->d_tag == DT_GNU_HASH)
            gnuhash = v;
        else if (d->d_tag == DT_HASH)
            hash = v;
        else
            versym = v;
    }
    if (!symtab || !strtab || (!gnuhash && !hash)) return 0;
    const Elf64_Sym *syms = (const Elf64_Sym *)symtab;
    uint64_t best = 0;
    int best_hidden = 1;
#define CONSIDER(i)                                                                                                                \
    do {                                                                                                                           \
        const Elf64_Sym *s = &syms[i];                                                                                             \
        if (s->st_shndx != SHN_UNDEF && s->st_value && tl_streq((const char *)(strtab + s->st_name), name)) {                      \
            int hidden = versym ? (((const uint16_t *)versym)[i] & 0x8000) != 0 : 0;                                               \
            if (!best || (best_hidden && !hidden)) {                                                                               \
                best = (ELF64_ST_TYPE(s->st_info) == STT_TLS ? 0 : base) + s->st_value;                                            \
                best_hidden = hidden;                                                                                              \
            }                                                                                                                      \
        }                                                                                                                          \
    } while (0)
    if (gnuhash) {
        const uint32_t *h = (const uint32_t *)gnuhash;
        uint32_t nbuckets = h[0], symoffset = h[1], bloom_size = h[2];
        if (!nbuckets) return 0;
        const uint64_t *bloom = (const uint64_t *)(h + 4);
        const uint32_t *buckets = (const uint32_t *)(bloom + bloom_size);
        const uint32_t *chain = buckets + nbuckets;
        uint32_t hv = 5381;
        for (const unsigned char *p = (const unsigned char *)name; *p; p++) hv = hv * 33 + *p;
        for (uint32_t i = buckets[hv % nbuckets]; i >= symoffset && i; i++) {
            uint32_t c = chain[i - symoffset];
            if ((c | 1) == (hv | 1)) CONSIDER(i);
            if (c & 1) break;
        }
    } else {
        const uint32_t *h = (const uint32_t *)hash;
        uint32_t nbucket = h[0], hv = 0;
        if (!nbucket) return 0;
        for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
            hv = (hv << 4) + *p;
            uint32_t g = hv & 0xf0000000u;
            if (g) hv ^= g >> 24;
            hv &= ~g;
        }
        const uint32_t *bucket = h + 2, *chain = bucket + nbucket;
        for (uint32_t i = bucket[hv % nbucket]; i; i = chain[i]) CONSIDER(i);
    }
#undef CONSIDER
    return best;
}

/* ---------------------------------------------------------------- unwinding by .eh_frame
 *
 * One frame at a time, from a pc inside a mapped module to its caller, by the module's own
 * call frame information (core/policy.c attributes a call made through libc to the code
 * that called libc). The FDE of pc is found by binary search in .eh_frame_hdr's table; its
 * CIE's and its own instructions are run up to pc; the row gives the CFA (rsp or rbp plus
 * an offset), the return address (saved at CFA + n) and rbp (saved at CFA + n, or
 * unchanged). Anything else (expression rules, a CFA on another register, no FDE, a signal
 * frame, an encoding not handled) is a failure: the caller falls back.
 *
 * Memory: the module's .eh_frame_hdr and .eh_frame are read directly when they lie in the
 * readable mapping our map of the address space (core/vmmap.c) shows for .eh_frame_hdr
 * when the CFI of a pc is run (the map follows munmap and mprotect), anything else with
 * tl_safe_read; the program's stack in place from rsp to the
 * end of the readable mapping holding rsp in that map (a thread in a call keeps its own
 * stack), else through one process_vm_readv of a window above rsp, and tl_safe_read
 * beyond either. A corrupt frame only leads to addresses outside them: read safely. */

#define EH_MODS 16
struct ehmod {
    uint32_t seq; /* odd while being written */
    uint32_t gen; /* 0: empty */
    uint64_t lo, hi; /* the executable mapping this entry answers for */
    uint64_t rd_lo, rd_hi; /* the readable mapping holding .eh_frame_hdr */
    uint64_t table; /* .eh_frame_hdr's search table: count pairs of datarel sdata4 */
    uint64_t hdr;
    uint64_t entry; /* the image's entry point (ld.so's _start has no FDE) */
    uint32_t count;
    int32_t ok; /* 0: no usable .eh_frame_hdr (a failure for every pc in [lo, hi)) */
};
static struct ehmod ehm[EH_MODS];
static uint32_t ehm_next;
static int ehm_lock;

/* The rows found, by pc (direct-mapped): what one step needs, without running the CFI again. */
#define EH_ROWS 512
struct ehrow {
    uint32_t seq;
    uint32_t gen;
    uint64_t pc; /* the lookup pc (the site, or a return address - 1) */
    int32_t cfa_off, ra_off, rbp_off; /* rbp_off 0: rbp unchanged */
    uint8_t cfa_reg; /* 6 rbp, 7 rsp; 0xfe: the outermost frame; 0xff: this pc cannot be unwound */
};
static struct ehrow ehr[EH_ROWS] TL_COLD;

static void seq_begin(uint32_t *s)
{
    __atomic_store_n(s, *s + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}
static void seq_end(uint32_t *s) { __atomic_store_n(s, *s + 1, __ATOMIC_RELEASE); }
static int trylock(int *l) { return !__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE); }

static int rd(const struct ehmod *e, uint64_t a, void *out, size_t n)
{
    if (a >= e->rd_lo && a < e->rd_hi && n <= e->rd_hi - a) {
        memcpy(out, (const void *)a, n);
        return 1;
    }
    return tl_safe_read(a, out, n);
}

static int uleb(const struct ehmod *e, uint64_t *p, uint64_t *v)
{
    uint64_t x = 0;
    for (int sh = 0; sh < 64; sh += 7) {
        uint8_t b;
        if (!rd(e, (*p)++, &b, 1)) return 0;
        x |= (uint64_t)(b & 0x7f) << sh;
        if (!(b & 0x80)) {
            *v = x;
            return 1;
        }
    }
    return 0;
}

static int sleb(const struct ehmod *e, uint64_t *p, int64_t *v)
{
    uint64_t x = 0;
    for (int sh = 0; sh < 64; sh += 7) {
        uint8_t b;
        if (!rd(e, (*p)++, &b, 1)) return 0;
        x |= (uint64_t)(b & 0x7f) << sh;
        if (!(b & 0x80)) {
            if (sh + 7 < 64 && (b & 0x40)) x |= ~0ull << (sh + 7);
            *v = (int64_t)x;
            return 1;
        }
    }
    return 0;
}

/* A pointer in DW_EH_PE encoding enc at *p (advanced past it); datarel: .eh_frame_hdr. */
static int eptr(const struct ehmod *e, uint64_t *p, uint8_t enc, uint64_t *v)
{
    if (enc == 0xff) return 0; /* omit */
    uint64_t at = *p, x = 0;
    switch (enc & 0x0f) {
    case 0x00:
    case 0x04:
    case 0x0c:
        if (!rd(e, at, &x, 8)) return 0;
        *p += 8;
        break;
    case 0x02: {
        uint16_t y;
        if (!rd(e, at, &y, 2)) return 0;
        x = y;
        *p += 2;
        break;
    }
    case 0x0a: {
        int16_t y;
        if (!rd(e, at, &y, 2)) return 0;
        x = (uint64_t)(int64_t)y;
        *p += 2;
        break;
    }
    case 0x03: {
        uint32_t y;
        if (!rd(e, at, &y, 4)) return 0;
        x = y;
        *p += 4;
        break;
    }
    case 0x0b: {
        int32_t y;
        if (!rd(e, at, &y, 4)) return 0;
        x = (uint64_t)(int64_t)y;
        *p += 4;
        break;
    }
    case 0x01:
        if (!uleb(e, p, &x)) return 0;
        break;
    case 0x09: {
        int64_t y;
        if (!sleb(e, p, &y)) return 0;
        x = (uint64_t)y;
        break;
    }
    default: return 0;
    }
    switch (enc & 0x70) {
    case 0x00: break;
    case 0x10: x += at; break; /* pcrel */
    case 0x30: x += e->hdr; break; /* datarel: .eh_frame_hdr */
    default: return 0;
    }
    if (enc & 0x80) return 0; /* indirect: not in CFI we read */
    *v = x;
    return 1;
}

static void ehmod_fill(uint64_t pc, struct ehmod *e)
{
    struct tl_mapping m, hm;
    memset(e, 0, sizeof *e);
    e->lo = e->hi = pc;
    if (tl_vm_find(pc, &m) != 0) return;
    e->lo = m.start;
    e->hi = m.end;
    if (!(m.prot & PROT_EXEC) || m.path[0] != '/') return;
    uint64_t base = m.start - m.offset;
    Elf64_Ehdr eh;
    if (!tl_safe_read(base, &eh, sizeof eh) || eh.e_ident[0] != 0x7f || eh.e_ident[1] != 'E' || eh.e_ident[2] != 'L' ||
        eh.e_ident[3] != 'F' || eh.e_machine != EM_X86_64 || eh.e_phnum > 64 || eh.e_phentsize != sizeof(Elf64_Phdr))
        return;
    Elf64_Phdr ph[64];
    if (!tl_safe_read(base + eh.e_phoff, ph, eh.e_phnum * sizeof ph[0])) return;
    uint64_t bias = eh.e_type == ET_EXEC ? 0 : base, hdr = 0;
    e->entry = eh.e_entry ? bias + eh.e_entry : 0;
    int in_load = 0;
    for (int i = 0; i < eh.e_phnum; i++) {
        if (ph[i].p_type == PT_GNU_EH_FRAME) hdr = bias + ph[i].p_vaddr;
        if (ph[i].p_type == PT_LOAD && pc >= bias + ph[i].p_vaddr && pc - (bias + ph[i].p_vaddr) < ph[i].p_memsz) in_load = 1;
    }
    /* pc lies in a segment of the image whose header is at base (a mapping whose file
     * offset does not match its address by the first segment's rule: no) */
    if (!hdr || !in_load || tl_vm_find(hdr, &hm) != 0 || !(hm.prot & PROT_READ) || hm.prot & PROT_WRITE) return;
    e->rd_lo = hm.start;
    e->rd_hi = hm.end;
    e->hdr = hdr;
    uint8_t h[4];
    if (!rd(e, hdr, h, 4) || h[0] != 1 || h[3] != 0x3b /* datarel sdata4 */) return;
    uint64_t p = hdr + 4, ehf, cnt;
    if (!eptr(e, &p, h[1], &ehf) || !eptr(e, &p, h[2], &cnt) || cnt == 0 || cnt > (1u << 24)) return;
    if (p < e->rd_lo || p + cnt * 8 > e->rd_hi) return; /* the table is read directly */
    e->table = p;
    e->count = (uint32_t)cnt;
    e->ok = 1;
}

/* The module entry for pc (a copy), from the cache or filled now. */
static void ehmod_get(uint64_t pc, uint32_t gen, struct ehmod *out)
{
    for (int i = 0; i < EH_MODS; i++) {
        struct ehmod *e = &ehm[i];
        uint32_t s = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
        if (s & 1 || __atomic_load_n(&e->gen, __ATOMIC_RELAXED) != gen) continue;
        if (pc < e->lo || pc >= e->hi) continue;
        *out = *e;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) == s && out->gen == gen && pc >= out->lo && pc < out->hi) return;
    }
    ehmod_fill(pc, out);
    out->gen = gen;
    if (!trylock(&ehm_lock)) return; /* busy: not cached this time */
    struct ehmod *e = &ehm[ehm_next++ % EH_MODS];
    seq_begin(&e->seq);
    uint32_t s = e->seq;
    *e = *out;
    e->seq = s;
    seq_end(&e->seq);
    tl_spin_unlock(&ehm_lock);
}

/* The FDE covering pc: its instructions [*ins, *end), its start, and its CIE's data. */
struct cie {
    uint64_t ins, end; /* initial instructions */
    uint64_t code_align;
    int64_t data_align;
    uint64_t ra_reg;
    uint8_t fde_enc, signal, zaug;
};

static int parse_cie(const struct ehmod *e, uint64_t at, struct cie *c)
{
    uint32_t len, id;
    if (!rd(e, at, &len, 4) || len == 0 || len == 0xffffffffu || !rd(e, at + 4, &id, 4) || id != 0) return 0;
    uint64_t p = at + 8, end = at + 4 + len;
    uint8_t ver;
    if (!rd(e, p++, &ver, 1) || (ver != 1 && ver != 3 && ver != 4)) return 0;
    char aug[8];
    int n = 0;
    for (;;) {
        char ch;
        if (!rd(e, p++, &ch, 1)) return 0;
        if (!ch) break;
        if (n >= 7) return 0;
        aug[n++] = ch;
    }
    aug[n] = 0;
    if (ver == 4) p += 2; /* address size, segment selector size */
    if (!uleb(e, &p, &c->code_align) || !sleb(e, &p, &c->data_align)) return 0;
    if (ver == 1) {
        uint8_t r;
        if (!rd(e, p++, &r, 1)) return 0;
        c->ra_reg = r;
    } else if (!uleb(e, &p, &c->ra_reg))
        return 0;
    c->fde_enc = 0;
    c->signal = 0;
    c->zaug = aug[0] == 'z';
    if (c->zaug) {
        uint64_t alen;
        if (!uleb(e, &p, &alen)) return 0;
        uint64_t q = p;
        for (int i = 1; i < n; i++) {
            uint8_t enc;
            uint64_t v;
            switch (aug[i]) {
            case 'R':
                if (!rd(e, q++, &c->fde_enc, 1)) return 0;
                break;
            case 'L': q++; break;
            case 'P':
                if (!rd(e, q++, &enc, 1)) return 0;
                if (!eptr(e, &q, (uint8_t)(enc & 0x7f), &v)) return 0; /* its pointer, skipped */
                break;
            case 'S': c->signal = 1; break;
            case 'B':
            case 'G': break;
            default: return 0;
            }
        }
        p += alen;
    } else if (n)
        return 0;
    c->ins = p;
    c->end = end;
    return p <= end;
}

/* The state of the row: the CFA and the two registers we follow (6 rbp, 16 the return
 * address). Rule kinds: 0 unchanged (same value, or not saved), 1 saved at CFA + off, 2 anything
 * else, 3 undefined (for the return address: the outermost frame, _start or a thread's start). */
struct rowst {
    uint64_t cfa_reg;
    int64_t cfa_off;
    uint8_t cfa_bad;
    uint8_t kind[2];
    int64_t off[2];
};

static int regslot(uint64_t reg) { return reg == 6 ? 0 : reg == 16 ? 1 : -1; }

/* Runs CFI instructions [p, end) while the location stays <= target. 0: bad CFI. */
static int run_cfi(const struct ehmod *e, const struct cie *c, uint64_t p, uint64_t end, uint64_t *loc, uint64_t target,
                   struct rowst *st, const struct rowst *init)
{
    struct rowst stack[4];
    int depth = 0;
    while (p < end) {
        uint8_t op;
        if (!rd(e, p++, &op, 1)) return 0;
        uint64_t a = 0, b = 0, delta = 0;
        int64_t s = 0;
        int slot;
        switch (op >> 6) {
        case 1: delta = (uint64_t)(op & 0x3f) * c->code_align; goto advance;
        case 2:
            if (!uleb(e, &p, &a)) return 0;
            slot = regslot(op & 0x3f);
            if (slot >= 0) {
                st->kind[slot] = 1;
                st->off[slot] = (int64_t)a * c->data_align;
            }
            continue;
        case 3:
            slot = regslot(op & 0x3f);
            if (slot >= 0) {
                if (!init) return 0;
                st->kind[slot] = init->kind[slot];
                st->off[slot] = init->off[slot];
            }
            continue;
        }
        switch (op) {
        case 0x00: continue; /* nop */
        case 0x01: return 0; /* set_loc: not in the CFI compilers emit for x86-64 */
        case 0x02:
        case 0x03:
        case 0x04: {
            uint32_t d = 0;
            size_t w = op == 0x02 ? 1 : op == 0x03 ? 2 : 4;
            if (!rd(e, p, &d, w)) return 0;
            p += w;
            delta = (uint64_t)d * c->code_align;
            goto advance;
        }
        case 0x05: /* offset_extended */
        case 0x11: /* offset_extended_sf */
            if (!uleb(e, &p, &a)) return 0;
            if (op == 0x05) {
                if (!uleb(e, &p, &b)) return 0;
                s = (int64_t)b;
            } else if (!sleb(e, &p, &s))
                return 0;
            slot = regslot(a);
            if (slot >= 0) {
                st->kind[slot] = 1;
                st->off[slot] = s * c->data_align;
            }
            continue;
        case 0x06: /* restore_extended */
            if (!uleb(e, &p, &a)) return 0;
            slot = regslot(a);
            if (slot >= 0) {
                if (!init) return 0;
                st->kind[slot] = init->kind[slot];
                st->off[slot] = init->off[slot];
            }
            continue;
        case 0x07: /* undefined */
        case 0x08: /* same_value */
            if (!uleb(e, &p, &a)) return 0;
            slot = regslot(a);
            if (slot >= 0) st->kind[slot] = op == 0x08 ? 0 : 3;
            continue;
        case 0x09: /* register */
            if (!uleb(e, &p, &a) || !uleb(e, &p, &b)) return 0;
            slot = regslot(a);
            if (slot >= 0) st->kind[slot] = 2;
            continue;
        case 0x0a:
            if (depth >= 4) return 0;
            stack[depth++] = *st;
            continue;
        case 0x0b:
            if (!depth) return 0;
            *st = stack[--depth];
            continue;
        case 0x0c: /* def_cfa */
            if (!uleb(e, &p, &a) || !uleb(e, &p, &b)) return 0;
            st->cfa_reg = a;
            st->cfa_off = (int64_t)b;
            st->cfa_bad = 0;
            continue;
        case 0x12: /* def_cfa_sf */
            if (!uleb(e, &p, &a) || !sleb(e, &p, &s)) return 0;
            st->cfa_reg = a;
            st->cfa_off = s * c->data_align;
            st->cfa_bad = 0;
            continue;
        case 0x0d: /* def_cfa_register */
            if (!uleb(e, &p, &a)) return 0;
            st->cfa_reg = a;
            continue;
        case 0x0e: /* def_cfa_offset */
            if (!uleb(e, &p, &a)) return 0;
            st->cfa_off = (int64_t)a;
            continue;
        case 0x13: /* def_cfa_offset_sf */
            if (!sleb(e, &p, &s)) return 0;
            st->cfa_off = s * c->data_align;
            continue;
        case 0x0f: /* def_cfa_expression */
            if (!uleb(e, &p, &a)) return 0;
            p += a;
            st->cfa_bad = 1;
            continue;
        case 0x10: /* expression */
        case 0x16: /* val_expression */
            if (!uleb(e, &p, &a) || !uleb(e, &p, &b)) return 0;
            p += b;
            slot = regslot(a);
            if (slot >= 0) st->kind[slot] = 2;
            continue;
        case 0x14: /* val_offset */
        case 0x15: /* val_offset_sf */
            if (!uleb(e, &p, &a)) return 0;
            if (op == 0x14) {
                if (!uleb(e, &p, &b)) return 0;
            } else if (!sleb(e, &p, &s))
                return 0;
            slot = regslot(a);
            if (slot >= 0) st->kind[slot] = 2;
            continue;
        case 0x2e: /* GNU_args_size */
            if (!uleb(e, &p, &a)) return 0;
            continue;
        case 0x2f: /* GNU_negative_offset_extended */
            if (!uleb(e, &p, &a) || !uleb(e, &p, &b)) return 0;
            slot = regslot(a);
            if (slot >= 0) {
                st->kind[slot] = 1;
                st->off[slot] = -(int64_t)b * c->data_align;
            }
            continue;
        default: return 0;
        }
    advance:
        if (*loc + delta > target) return 1; /* the row for target is the current one */
        *loc += delta;
    }
    return 1;
}

/* The row for lookup pc t in module e: 0 ok, 1 the outermost frame, -1 not found or not usable. */
static int find_row(const struct ehmod *e, uint64_t t, struct ehrow *row)
{
    if (!e->ok) return -1;
    /* the last entry whose start is <= t */
    uint32_t lo = 0, hi = e->count;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        int32_t start = *(const int32_t *)(e->table + (uint64_t)mid * 8);
        if (e->hdr + (uint64_t)(int64_t)start <= t)
            lo = mid;
        else
            hi = mid;
    }
    const int32_t *ent = (const int32_t *)(e->table + (uint64_t)lo * 8);
    uint64_t fde = e->hdr + (uint64_t)(int64_t)ent[1];
    if (e->hdr + (uint64_t)(int64_t)ent[0] > t) return -1;
    uint32_t len, cptr;
    if (!rd(e, fde, &len, 4) || len == 0 || len == 0xffffffffu || !rd(e, fde + 4, &cptr, 4) || cptr == 0) return -1;
    struct cie c;
    if (!parse_cie(e, fde + 4 - cptr, &c) || c.signal || c.ra_reg != 16 || c.code_align == 0) return -1;
    uint64_t p = fde + 8, start, range;
    if (!eptr(e, &p, c.fde_enc, &start) || !eptr(e, &p, (uint8_t)(c.fde_enc & 0x0f), &range)) return -1;
    if (t < start || t - start >= range) return -1;
    if (c.zaug) {
        uint64_t alen;
        if (!uleb(e, &p, &alen)) return -1;
        p += alen;
    }
    uint64_t end = fde + 4 + len;
    struct rowst st = {.cfa_reg = 7, .cfa_off = 8, .cfa_bad = 1, .kind = {0, 0}, .off = {0, 0}}, init;
    uint64_t loc = start;
    if (!run_cfi(e, &c, c.ins, c.end, &loc, ~0ull, &st, 0)) return -1;
    init = st;
    loc = start;
    if (!run_cfi(e, &c, p, end, &loc, t, &st, &init)) return -1;
    if (st.kind[1] == 3) return 1;
    if (st.cfa_bad || (st.cfa_reg != 6 && st.cfa_reg != 7) || st.kind[1] != 1 || st.kind[0] >= 2) return -1;
    if (st.cfa_off < -(1ll << 30) || st.cfa_off > (1ll << 30) || st.off[1] < -(1ll << 20) || st.off[1] > (1ll << 20) ||
        st.off[0] < -(1ll << 20) || st.off[0] > (1ll << 20))
        return -1;
    row->cfa_reg = (uint8_t)st.cfa_reg;
    row->cfa_off = (int32_t)st.cfa_off;
    row->ra_off = (int32_t)st.off[1];
    row->rbp_off = st.kind[0] == 1 ? (int32_t)st.off[0] : 0;
    return 0;
}

static int stk(struct tl_unwind *u, uint64_t a, uint64_t *v)
{
    if (a >= u->direct_lo && a < u->direct_hi && u->direct_hi - a >= 8) {
        memcpy(v, (const void *)a, 8);
        return 1;
    }
    if (a >= u->win_lo && a - u->win_lo < u->win_len && u->win_len - (a - u->win_lo) >= 8) {
        memcpy(v, u->win + (a - u->win_lo), 8);
        return 1;
    }
    return tl_safe_read(a, v, 8);
}

void tl_unwind_begin(struct tl_unwind *u, uint64_t pc, uint64_t rsp, uint64_t rbp)
{
    u->pc = pc;
    u->rsp = rsp;
    u->rbp = rbp;
    u->first = 1;
    u->win_lo = rsp;
    u->win_len = 0;
    u->direct_lo = u->direct_hi = 0;
    /* the stack's mapping, readable in our map of the address space: read in place (the
     * thread is in a call: its own stack stays mapped) */
    struct tl_mapping m; /* (after a hook ran, the map asks the kernel: the window is cheaper) */
    if (!__atomic_load_n(&tl_vm_suspect, __ATOMIC_RELAXED) && tl_vm_find(rsp, &m) == 0 && (m.prot & PROT_READ) && rsp >= m.start &&
        rsp < m.end) {
        u->direct_lo = rsp;
        u->direct_hi = m.end;
        return;
    }
    if (UNLIKELY(tl_seccomp_mode) && !tl_seccomp_allows(SYS_process_vm_readv, tl_pid, 0, 1)) return;
    struct {
        void *b;
        size_t l;
    } local = {u->win, sizeof u->win}, remote = {(void *)rsp, sizeof u->win};
    /* one call for the frames near rsp: as much of the window as is mapped */
    long got = tl_sys6(SYS_process_vm_readv, tl_pid, (long)&local, 1, (long)&remote, 1, 0);
    u->win_len = got > 0 ? (uint64_t)got : 0;
}

int tl_unwind_step(struct tl_unwind *u, uint32_t gen)
{
    uint64_t t = u->first ? u->pc : u->pc - 1;
    struct ehrow *c = &ehr[(t * 0x9e3779b97f4a7c15ull) >> (64 - 9)], row;
    uint32_t s = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
    int hit = 0;
    if (!(s & 1) && __atomic_load_n(&c->gen, __ATOMIC_RELAXED) == gen && __atomic_load_n(&c->pc, __ATOMIC_RELAXED) == t) {
        row = *c;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        hit = __atomic_load_n(&c->seq, __ATOMIC_RELAXED) == s && row.gen == gen && row.pc == t;
    }
    if (!hit) {
        struct ehmod e;
        ehmod_get(t, gen, &e);
        /* the CFI is read in place only inside the mapping our map shows readable now (it
         * follows mprotect as well as munmap) */
        struct tl_mapping hm;
        if (e.ok &&
            (tl_vm_find(e.hdr, &hm) != 0 || !(hm.prot & PROT_READ) || e.table < hm.start ||
             e.table + (uint64_t)e.count * 8 > hm.end))
            e.ok = 0;
        if (e.ok) {
            e.rd_lo = hm.start;
            e.rd_hi = hm.end;
        }
        memset(&row, 0, sizeof row);
        int f = find_row(&e, t, &row);
        /* a call from the entry code, which has no CFI (ld.so's _start calling _dl_start):
         * the outermost frame */
        if (f < 0 && e.entry && t >= e.entry && t - e.entry < 64) f = 1;
        if (f) row.cfa_reg = f > 0 ? 0xfe : 0xff;
        row.gen = gen;
        row.pc = t;
        if (trylock(&ehm_lock)) {
            seq_begin(&c->seq);
            uint32_t cs = c->seq;
            *c = row;
            c->seq = cs;
            seq_end(&c->seq);
            tl_spin_unlock(&ehm_lock);
        }
    }
    if (row.cfa_reg >= 0xfe) return row.cfa_reg == 0xfe ? 1 : -1;
    uint64_t cfa = (row.cfa_reg == 7 ? u->rsp : u->rbp) + (uint64_t)(int64_t)row.cfa_off, ra, rbp = u->rbp;
    if (!stk(u, cfa + (uint64_t)(int64_t)row.ra_off, &ra)) return -1;
    if (row.rbp_off && !stk(u, cfa + (uint64_t)(int64_t)row.rbp_off, &rbp)) return -1;
    if (cfa <= u->rsp || ra == 0) return -1; /* the stack grows down: a frame is above its callee's */
    u->pc = ra;
    u->rsp = cfa;
    u->rbp = rbp;
    u->first = 0;
    return 0;
}
