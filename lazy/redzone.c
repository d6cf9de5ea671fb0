/* The red-zone rule (lazy/redzone.h), with the small x86-64 decoder it needs.
 *
 * A rewritten site `callq *%rax` writes its return address at [rsp-8, rsp) at the moment
 * of the call (and the fast path writes that slot again after the kernel returns). That
 * matters only if the code keeps data there across the call: if, after the site, it reads
 * (or writes) memory below %rsp, or if it hands the kernel a pointer below %rsp. So:
 *
 *  1. Before the site, [site - TL_RZ_BEFORE, site): which registers may hold %rsp + k
 *     when the site runs ("copies" of the stack pointer: mov %rsp,%rbx; lea -N(%rsp),%rsi;
 *     mov %rsp,%rbp), and the smallest k. Instruction boundaries before the site are not
 *     known, so EVERY linear decoding that starts in the window and falls through into the
 *     site is followed (one pass: each offset decoded once, its state the union of its
 *     predecessors'). A window start, and the byte after a ret/jmp, start with no copies.
 *  2. At the site: an argument register (rdi rsi rdx r10 r8 r9) holding %rsp + k, k < 0:
 *     the kernel would read or write below %rsp (TL_RZ_ARG).
 *  3. After the site: the code is decoded from site + 2 (a real instruction boundary: the
 *     site was executed, or confirmed by the scanner) following its control flow inside
 *     the whole window: fall-through, conditional and direct jumps; a path ends at ret, a
 *     call (which itself writes rsp-8), an indirect jump, ud2/int3/hlt, undecodable bytes
 *     or the window's edge. Copies are tracked through mov/lea/add/sub/and/push/pop/leave.
 *     Any memory operand based on %rsp or on a copy with an address below the current
 *     %rsp (TL_RZ_BELOW_RSP, TL_RZ_VIA_COPY) that may be read (pure stores such as
 *     mov %rax,-8(%rsp) cannot observe the callq's write), a string instruction using a copy below
 *     %rsp (TL_RZ_STRING), or a copy below %rsp stored to memory (TL_RZ_ESCAPE) counts.
 *
 * Unknown instructions that write a register leave its copy status as it was
 * (conservative). Compiled into libtrapline.so and into the addon: no libc, no globals. */
#include "lazy/redzone.h"

/* ---- decoder --------------------------------------------------------------------------- */

struct insn {
    uint8_t len;
    uint8_t map; /* 0 one-byte, 1 0f, 2 0f38, 3 0f3a; +8 when VEX/EVEX encoded */
    uint8_t op;
    uint8_t w; /* REX.W / VEX.W */
    uint8_t osize16; /* 66 prefix */
    uint8_t has_modrm, mod, reg, rm; /* reg, rm extended to 0..15 */
    int8_t base; /* memory base 0..15; -1 none; 16 rip */
    int8_t index; /* -1 none */
    uint8_t rep; /* f2/f3 */
    int64_t disp;
    int64_t imm;
    uint8_t imm_len;
};

/* Opcode tables (one-byte map, and the 0f map): bit 3 has a ModRM byte, bit 4 invalid in
 * 64-bit mode, bits 0-2 the immediate: 0 none, 1 imm8, 2 imm16, 3 imm16/32 (66 prefix),
 * 4 rel32, 7 decided by the code (b8+r: imm64 with REX.W; f6/f7 /0,/1; a0-a3 moffs;
 * c8 enter). Prefix bytes and 0f/c4/c5/62 are handled before the table is consulted. */
static const uint8_t op1[256] = {
    0x08, 0x08, 0x08, 0x08, 0x01, 0x03, 0x10, 0x10, 0x08, 0x08, 0x08, 0x08, 0x01, 0x03, 0x10, 0x00, 0x08, 0x08, 0x08, 0x08,
    0x01, 0x03, 0x10, 0x10, 0x08, 0x08, 0x08, 0x08, 0x01, 0x03, 0x10, 0x10, 0x08, 0x08, 0x08, 0x08, 0x01, 0x03, 0x00, 0x10,
    0x08, 0x08, 0x08, 0x08, 0x01, 0x03, 0x00, 0x10, 0x08, 0x08, 0x08, 0x08, 0x01, 0x03, 0x00, 0x10, 0x08, 0x08, 0x08, 0x08,
    0x01, 0x03, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x10, 0x08, 0x08,
    0x00, 0x00, 0x00, 0x00, 0x03, 0x0b, 0x01, 0x09, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x09, 0x0b, 0x18, 0x09, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08,
    0x08, 0x08, 0x08, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x07, 0x07, 0x07, 0x07, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x07, 0x09, 0x09, 0x02, 0x00, 0x00, 0x00, 0x09, 0x0b,
    0x07, 0x00, 0x02, 0x00, 0x00, 0x01, 0x10, 0x00, 0x08, 0x08, 0x08, 0x08, 0x10, 0x10, 0x10, 0x00, 0x08, 0x08, 0x08, 0x08,
    0x08, 0x08, 0x08, 0x08, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x04, 0x04, 0x10, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x0f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x08,
};
static const uint8_t op2[256] = {
    0x08, 0x08, 0x08, 0x08, 0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x18, 0x00, 0x18, 0x08, 0x00, 0x09, 0x08, 0x08, 0x08, 0x08,
    0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x18, 0x18, 0x18, 0x18,
    0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x18, 0x00, 0x08, 0x18, 0x08, 0x18,
    0x18, 0x18, 0x18, 0x18, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08,
    0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08,
    0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x09, 0x09, 0x09, 0x09, 0x08, 0x08, 0x08, 0x00,
    0x08, 0x08, 0x18, 0x18, 0x08, 0x08, 0x08, 0x08, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04,
    0x04, 0x04, 0x04, 0x04, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08,
    0x00, 0x00, 0x00, 0x08, 0x09, 0x08, 0x18, 0x18, 0x00, 0x00, 0x00, 0x08, 0x09, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08,
    0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x09, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x09, 0x08, 0x09, 0x09, 0x09, 0x08,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08,
    0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08,
    0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08,
};

#define T_MODRM 8
#define T_INVALID 16

/* The steps done per instruction (decode, flow, transfer, use_of) are inlined into the
 * loops of tl_redzone_check: a call each cost a fifth of the check. */
#define HOT static inline __attribute__((always_inline))

/* immediate bytes of a one-byte opcode; -1: moffs */
HOT int imm1(uint8_t op, int osize16, int w, uint8_t reg)
{
    switch (op1[op] & 7) {
    case 1: return 1;
    case 2: return 2;
    case 3: return osize16 ? 2 : 4;
    case 4: return 4;
    case 7:
        if (op >= 0xb8 && op <= 0xbf) return w ? 8 : osize16 ? 2 : 4;
        if (op == 0xf6) return reg < 2 ? 1 : 0;
        if (op == 0xf7) return reg < 2 ? (osize16 ? 2 : 4) : 0;
        if (op == 0xc8) return 3;
        return -1; /* a0-a3 */
    }
    return 0;
}

static int imm2(uint8_t op)
{
    int c = op2[op] & 7;
    return c == 4 ? 4 : c;
}

static int64_t sread(const uint8_t *p, int n)
{
    switch (n) {
    case 1: return (int8_t)p[0];
    case 2: {
        int16_t v;
        __builtin_memcpy(&v, p, 2);
        return v;
    }
    case 4: {
        int32_t v;
        __builtin_memcpy(&v, p, 4);
        return v;
    }
    case 8: {
        int64_t v;
        __builtin_memcpy(&v, p, 8);
        return v;
    }
    }
    return 0;
}

/* legacy prefixes: 1 66, 2 67, 3 f2/f3, 4 lock and segments */
static const uint8_t legacy[256] = {
    [0x66] = 1, [0x67] = 2, [0xf2] = 3, [0xf3] = 3, [0xf0] = 4, [0x2e] = 4,
    [0x36] = 4, [0x3e] = 4, [0x26] = 4, [0x64] = 4, [0x65] = 4,
};

/* Decodes the instruction at p; its length, 0 if invalid or cut off by avail. */
HOT int decode(const uint8_t *p, size_t avail, struct insn *d)
{
    size_t n = avail < 15 ? avail : 15, i = 0;
    int rex = 0, vex = 0, evex = 0, osize16 = 0, asize32 = 0, map = 0;
    uint8_t op, rep = 0;
    d->base = d->index = -1;
    d->has_modrm = d->mod = d->reg = d->rm = 0;
    d->disp = d->imm = 0;
    d->imm_len = 0;
    for (;; i++) {
        if (i >= n) return 0;
        uint8_t b = p[i], c = legacy[b];
        if (!c) break;
        if (c == 1)
            osize16 = 1;
        else if (c == 2)
            asize32 = 1;
        else if (c == 3)
            rep = b;
    }
    if ((p[i] & 0xf0) == 0x40) {
        rex = p[i++];
        if (i >= n) return 0;
    }
    int rr = (rex >> 2) & 1, rx = (rex >> 1) & 1, rb = rex & 1, w = (rex >> 3) & 1;
    op = p[i++];
    if (op == 0xc4 || op == 0xc5 || op == 0x62) {
        if (rex) return 0;
        if (op == 0xc5) {
            if (i + 1 > n) return 0;
            uint8_t b1 = p[i++];
            rr = !(b1 & 0x80);
            rx = rb = 0;
            w = 0;
            map = 1;
        } else if (op == 0xc4) {
            if (i + 2 > n) return 0;
            uint8_t b1 = p[i++], b2 = p[i++];
            rr = !(b1 & 0x80);
            rx = !(b1 & 0x40);
            rb = !(b1 & 0x20);
            map = b1 & 0x1f;
            w = b2 >> 7;
            if (map < 1 || map > 3) return 0;
        } else {
            if (i + 3 > n) return 0;
            uint8_t b1 = p[i++], b2 = p[i++];
            i++;
            rr = !(b1 & 0x80);
            rx = !(b1 & 0x40);
            rb = !(b1 & 0x20);
            map = b1 & 7;
            w = b2 >> 7;
            if (map < 1 || map == 4 || map == 7 || !(b2 & 4)) return 0;
            evex = 1;
        }
        vex = 1;
        if (i >= n) return 0;
        op = p[i++];
    } else if (op == 0x0f) {
        if (i >= n) return 0;
        op = p[i++];
        map = 1;
        if (op == 0x38 || op == 0x3a) {
            map = op == 0x38 ? 2 : 3;
            if (i >= n) return 0;
            op = p[i++];
        } else if (op2[op] & T_INVALID) {
            return 0;
        }
    } else if (op1[op] & T_INVALID) {
        return 0;
    }
    int modrm;
    if (vex)
        modrm = !(map == 1 && op == 0x77);
    else if (map == 0)
        modrm = (op1[op] & T_MODRM) != 0;
    else if (map == 1)
        modrm = (op2[op] & T_MODRM) != 0;
    else
        modrm = 1;
    uint8_t reg3 = 0;
    if (modrm) {
        if (i >= n) return 0;
        uint8_t m = p[i++];
        d->has_modrm = 1;
        d->mod = m >> 6;
        reg3 = (m >> 3) & 7;
        d->reg = (uint8_t)(reg3 | rr << 3);
        uint8_t rm = m & 7;
        d->rm = (uint8_t)(rm | rb << 3);
        if (d->mod != 3) {
            int disp = d->mod == 1 ? 1 : d->mod == 2 ? 4 : 0;
            if (rm == 4) {
                if (i >= n) return 0;
                uint8_t s = p[i++];
                uint8_t base = s & 7, idx = (uint8_t)(((s >> 3) & 7) | rx << 3);
                d->index = idx == 4 ? -1 : (int8_t)idx;
                if (base == 5 && d->mod == 0) {
                    d->base = -1;
                    disp = 4;
                } else
                    d->base = (int8_t)(base | rb << 3);
            } else if (rm == 5 && d->mod == 0) {
                d->base = 16;
                disp = 4;
            } else {
                d->base = (int8_t)(rm | rb << 3);
            }
            if (i + (size_t)disp > n) return 0;
            d->disp = sread(p + i, disp);
            /* EVEX disp8 is scaled by the operand size (1..64): take the magnitude that
             * makes the address lowest (conservative for "below rsp") */
            if (evex && disp == 1) d->disp = d->disp < 0 ? d->disp * 64 : d->disp;
            i += (size_t)disp;
        }
    }
    int imm;
    if (vex)
        imm = map == 3 || (map == 1 && imm2(op) == 1) ? 1 : 0;
    else if (map == 0)
        imm = imm1(op, osize16, w, reg3);
    else if (map == 1)
        imm = imm2(op);
    else
        imm = map == 3 ? 1 : 0;
    if (imm < 0) imm = asize32 ? 4 : 8; /* moffs */
    if (i + (size_t)imm > n) return 0;
    if (imm == 1 || imm == 2 || imm == 4 || imm == 8)
        d->imm = sread(p + i, imm);
    else if (imm == 3)
        d->imm = sread(p + i, 2); /* enter: the frame size */
    d->imm_len = (uint8_t)imm;
    i += (size_t)imm;
    d->len = (uint8_t)i;
    d->map = (uint8_t)(map | (vex ? 8 : 0));
    d->op = op;
    d->w = (uint8_t)w;
    d->osize16 = (uint8_t)osize16;
    d->rep = rep;
    return (int)i;
}

/* decode(), not inlined: for the places that are not loops */
static __attribute__((noinline)) int decode_once(const uint8_t *p, size_t avail, struct insn *d) { return decode(p, avail, d); }

int tl_insn_length(const uint8_t *p, size_t avail)
{
    struct insn d;
    return decode_once(p, avail, &d);
}

/* ---- the analysis ------------------------------------------------------------------------ */

#define RSP 4
#define KMIN (-(1 << 20))
#define KMAX (1 << 20)

/* Registers that may hold %rsp + k: bit r of mask, with k[r] the smallest k. %rsp itself
 * is always %rsp + 0 and not in the mask. */
struct st {
    uint32_t mask;
    int32_t k[16];
};

static int32_t clampk(int64_t v) { return (int32_t)(v < KMIN ? KMIN : v > KMAX ? KMAX : v); }

static void st_clear(struct st *s) { s->mask = 0; }

/* into (a stored state: its mask and k[16]) := into U from; 1 if into changed. Only
 * the k of registers in a mask are ever read, so only those are written. */
static int st_merge_to(uint32_t *into_mask, int32_t *into_k, const struct st *from)
{
    int changed = 0;
    uint32_t have = *into_mask;
    for (uint32_t m = from->mask; m; m &= m - 1) {
        int r = __builtin_ctz(m);
        if (!(have >> r & 1)) {
            have |= 1u << r;
            into_k[r] = from->k[r];
            changed = 1;
        } else if (from->k[r] < into_k[r]) {
            into_k[r] = from->k[r];
            changed = 1;
        }
    }
    *into_mask = have;
    return changed;
}

static int st_merge(struct st *into, const struct st *from) { return st_merge_to(&into->mask, into->k, from); }

/* a stored state := s, and back (k[] of registers not in the mask copied as they are:
 * never read) */
static void st_store(uint32_t *mask, int32_t *k, const struct st *s)
{
    *mask = s->mask;
    if (s->mask) __builtin_memcpy(k, s->k, sizeof s->k); /* eight moves, no call */
}

static void st_load(struct st *s, uint32_t mask, const int32_t *k)
{
    s->mask = mask;
    if (mask) __builtin_memcpy(s->k, k, sizeof s->k);
}

static int is_copy(const struct st *s, int r, int32_t *k)
{
    if (r == RSP) {
        *k = 0;
        return 1;
    }
    if (r < 0 || r > 15 || !(s->mask >> r & 1)) return 0;
    *k = s->k[r];
    return 1;
}

static void set_copy(struct st *s, int r, int64_t k)
{
    if (r == RSP) return;
    s->mask |= 1u << r;
    s->k[r] = clampk(k);
}

static void kill(struct st *s, int r)
{
    if (r != RSP) s->mask &= ~(1u << r);
}

/* %rsp moved by delta (new rsp = old rsp + delta): every copy's k shifts the other way */
static void rsp_moved(struct st *s, int64_t delta)
{
    for (uint32_t m = s->mask; m; m &= m - 1) {
        int r = __builtin_ctz(m);
        s->k[r] = clampk((int64_t)s->k[r] - delta);
    }
}

/* how an instruction ends a path */
enum { FLOW_NEXT, FLOW_END, FLOW_JUMP, FLOW_BRANCH };

HOT int flow(const struct insn *d, int64_t *target, int64_t at)
{
    if (d->map == 0) {
        uint8_t op = d->op;
        if ((op >= 0x70 && op <= 0x7f) || (op >= 0xe0 && op <= 0xe3)) {
            *target = at + d->len + d->imm;
            return FLOW_BRANCH;
        }
        if (op == 0xeb || op == 0xe9) {
            *target = at + d->len + d->imm;
            return FLOW_JUMP;
        }
        if (op == 0xc3 || op == 0xc2 || op == 0xcb || op == 0xca || op == 0xcc || op == 0xcf || op == 0xf4) return FLOW_END;
        if (op == 0xe8) return FLOW_END; /* call: writes rsp-8 itself */
        if (op == 0xff && (d->reg & 7) >= 2 && (d->reg & 7) <= 5) return FLOW_END; /* indirect call/jmp */
    } else if (d->map == 1) {
        if (d->op >= 0x80 && d->op <= 0x8f) {
            *target = at + d->len + d->imm;
            return FLOW_BRANCH;
        }
        if (d->op == 0x0b || d->op == 0xb9 || d->op == 0xff) return FLOW_END; /* ud2, ud1, ud0 */
    }
    return FLOW_NEXT;
}

/* Applies d's effect on the copies; for calls in the backward pass (the path goes on in
 * the caller's view) the caller-saved registers are dropped. */
HOT void transfer(struct st *s, const struct insn *d)
{
    int32_t k;
    int r = d->reg, m = d->rm, reg_dst = d->mod == 3;
    if (d->map == 0) {
        uint8_t op = d->op;
        if (op >= 0x50 && op <= 0x57) {
            rsp_moved(s, -8);
            return;
        }
        if (op >= 0x58 && op <= 0x5f) {
            rsp_moved(s, 8);
            return;
        } /* the register: transfer_full */
        if (op == 0x68 || op == 0x6a || op == 0x9c) {
            rsp_moved(s, -8);
            return;
        }
        if (op == 0x9d) {
            rsp_moved(s, 8);
            return;
        }
        if (op >= 0xb8 && op <= 0xbf) return; /* handled by the caller (needs REX.B) */
        switch (op) {
        case 0x89:
        case 0x8b: {
            if (!reg_dst) return;
            int src = op == 0x89 ? r : m, dst = op == 0x89 ? m : r;
            if (dst == RSP) {
                if (d->w && is_copy(s, src, &k))
                    rsp_moved(s, k);
                else
                    st_clear(s); /* a stack switch: nothing known */
                return;
            }
            if (d->w && is_copy(s, src, &k))
                set_copy(s, dst, k);
            else
                kill(s, dst);
            return;
        }
        case 0x8d:
            if (d->base >= 0 && d->base < 16 && d->w && is_copy(s, d->base, &k)) {
                if (r == RSP)
                    rsp_moved(s, k + d->disp);
                else
                    set_copy(s, r, (int64_t)k + d->disp);
            } else {
                kill(s, r);
            }
            return;
        case 0x63: kill(s, r); return;
        case 0x81:
        case 0x83:
            if (!reg_dst || !d->w) {
                if (reg_dst && (d->reg & 7) != 7) kill(s, m);
                return;
            }
            if (m == RSP) {
                if ((d->reg & 7) == 0)
                    rsp_moved(s, d->imm);
                else if ((d->reg & 7) == 5)
                    rsp_moved(s, -d->imm);
                return;
            }
            if (!is_copy(s, m, &k)) return;
            switch (d->reg & 7) {
            case 0: set_copy(s, m, (int64_t)k + d->imm); break;
            case 5: set_copy(s, m, (int64_t)k - d->imm); break;
            case 4:
                if (d->imm < 0)
                    set_copy(s, m, (int64_t)k + d->imm + 1);
                else
                    kill(s, m);
                break;
            }
            return;
        case 0x31:
        case 0x33:
        case 0x29:
        case 0x2b:
            if (reg_dst && r == m) kill(s, r);
            return;
        case 0x87:
            if (reg_dst) {
                int32_t kr, km;
                int cr = is_copy(s, r, &kr), cm = is_copy(s, m, &km);
                if (r == RSP || m == RSP) {
                    st_clear(s);
                    return;
                }
                kill(s, r);
                kill(s, m);
                if (cr) set_copy(s, m, kr);
                if (cm) set_copy(s, r, km);
            } else {
                kill(s, r);
            }
            return;
        case 0x8f:
            rsp_moved(s, 8);
            if (reg_dst) kill(s, m);
            return;
        case 0xc9: { /* leave: mov %rbp,%rsp; pop %rbp */
            if (is_copy(s, 5, &k))
                rsp_moved(s, k);
            else
                st_clear(s);
            rsp_moved(s, 8);
            kill(s, 5);
            return;
        }
        case 0xc8: /* enter $n: push %rbp; mov %rsp,%rbp; sub $n,%rsp */
            rsp_moved(s, -8);
            set_copy(s, 5, 0);
            rsp_moved(s, -(d->imm & 0xffff));
            return;
        case 0xc7:
            if (reg_dst) kill(s, m);
            return;
        case 0xe8: /* call (backward pass): caller-saved registers are gone */
            for (int x = 0; x < 16; x++)
                if (x == 0 || x == 1 || x == 2 || x == 6 || x == 7 || (x >= 8 && x <= 11)) kill(s, x);
            return;
        case 0xff:
            if ((d->reg & 7) == 6)
                rsp_moved(s, -8);
            else if ((d->reg & 7) == 2 || (d->reg & 7) == 3)
                for (int x = 0; x < 16; x++)
                    if (x == 0 || x == 1 || x == 2 || x == 6 || x == 7 || (x >= 8 && x <= 11)) kill(s, x);
            return;
        }
        return;
    }
    if (d->map == 1) {
        if (d->op == 0x05) {
            kill(s, 0);
            kill(s, 1);
            kill(s, 11);
            return;
        } /* syscall */
        if (d->op == 0xb6 || d->op == 0xb7 || d->op == 0xbe || d->op == 0xbf) {
            kill(s, r);
            return;
        }
        if (d->op >= 0x40 && d->op <= 0x4f && reg_dst && d->w && is_copy(s, m, &k)) { /* cmov */
            struct st one;
            one.mask = 0;
            set_copy(&one, r, k);
            st_merge(s, &one);
        }
    }
}

/* Register number of a one-byte opcode's +r form (needs REX.B, which decode() folded into
 * rm only for ModRM forms): recovered from the bytes. */
static int plus_r(const uint8_t *p, const struct insn *d)
{
    int i = d->len - 1 - (d->imm_len > 0 ? d->imm_len : 0);
    int rexb = i > 0 && (p[i - 1] & 0xf0) == 0x40 ? p[i - 1] & 1 : 0;
    return (d->op & 7) | rexb << 3;
}

/* the one-byte ops whose register is in the opcode: mov imm (b8+r) kills, pop (58+r) kills */
HOT void transfer_full(struct st *s, const uint8_t *p, const struct insn *d)
{
    if (d->map == 0 && d->op >= 0xb8 && d->op <= 0xbf) {
        kill(s, plus_r(p, d));
        return;
    }
    if (d->map == 0 && d->op >= 0x58 && d->op <= 0x5f) {
        int r = plus_r(p, d);
        transfer(s, d);
        if (r == RSP)
            st_clear(s);
        else
            kill(s, r);
        return;
    }
    if (d->map == 0 && d->op >= 0x91 && d->op <= 0x97) { /* xchg %rax, r */
        int r = plus_r(p, d);
        int32_t ka, kr;
        int ca = is_copy(s, 0, &ka), cr = is_copy(s, r, &kr);
        if (r == RSP) {
            st_clear(s);
            return;
        }
        kill(s, 0);
        kill(s, r);
        if (ca) set_copy(s, r, ka);
        if (cr) set_copy(s, 0, kr);
        return;
    }
    transfer(s, d);
}

/* An instruction that only writes its memory operand (mov, setcc, SSE/AVX stores): a
 * store after the site cannot observe what the callq wrote there. */
static int pure_store(const struct insn *d)
{
    if (d->map == 0) return d->op == 0x88 || d->op == 0x89 || ((d->op == 0xc6 || d->op == 0xc7) && (d->reg & 7) == 0);
    if ((d->map & 7) != 1) return 0;
    if (d->map == 1 && d->op >= 0x90 && d->op <= 0x9f) return 1; /* setcc */
    switch (d->op) {
    case 0x11:
    case 0x13:
    case 0x17:
    case 0x29:
    case 0x2b:
    case 0x7f:
    case 0xd6:
    case 0xe7: return 1;
    }
    return 0;
}

/* A use of memory below %rsp by d in state s (the forward pass); TL_RZ_NONE if none. */
HOT int use_of(const struct st *s, const struct insn *d)
{
    int32_t k;
    if (d->has_modrm && d->mod != 3 && d->base >= 0 && d->base < 16) {
        int ignore = (d->map == 0 && d->op == 0x8d) || /* lea computes */
            (d->map == 1 && ((d->op >= 0x18 && d->op <= 0x1f) || d->op == 0x0d)) || /* nop, prefetch */
            pure_store(d);
        if (!ignore && is_copy(s, d->base, &k) && (int64_t)k + d->disp < 0)
            return d->base == RSP ? TL_RZ_BELOW_RSP : TL_RZ_VIA_COPY;
    }
    if (d->map == 0 && (d->op == 0x89 || d->op == 0x87) && d->mod != 3 && d->w && is_copy(s, d->reg, &k) && k < 0)
        return TL_RZ_ESCAPE;
    if (d->map == 0 && ((d->op >= 0xa4 && d->op <= 0xa7) || (d->op >= 0xaa && d->op <= 0xaf))) {
        if ((is_copy(s, 7, &k) && k < 0) ||
            (is_copy(s, 6, &k) && k < 0 && d->op != 0xaa && d->op != 0xab && d->op != 0xae && d->op != 0xaf))
            return TL_RZ_STRING;
    }
    return TL_RZ_NONE;
}

static int arg_below(const struct st *s)
{
    static const int args[6] = {7, 6, 2, 10, 8, 9};
    int32_t k;
    for (int i = 0; i < 6; i++)
        if (is_copy(s, args[i], &k) && k < 0) return 1;
    return 0;
}

/* The bytes may_originate() looks at: 1 a prefix or REX, 2 mov (89, 8b), lea (8d),
 * enter (c8); 0 any other. */
static const uint8_t orig_class[256] = {
    [0x26] = 1, [0x2e] = 1, [0x36] = 1, [0x3e] = 1, [0x40] = 1, [0x41] = 1, [0x42] = 1, [0x43] = 1,
    [0x44] = 1, [0x45] = 1, [0x46] = 1, [0x47] = 1, [0x48] = 1, [0x49] = 1, [0x4a] = 1, [0x4b] = 1,
    [0x4c] = 1, [0x4d] = 1, [0x4e] = 1, [0x4f] = 1, [0x64] = 1, [0x65] = 1, [0x66] = 1, [0x67] = 1,
    [0xf0] = 1, [0xf2] = 1, [0xf3] = 1, [0x89] = 2, [0x8b] = 2, [0x8d] = 2, [0xc8] = 2,
};

/* 0x80 in each byte of v that is 0, 0 in the others */
static uint64_t zero_bytes(uint64_t v)
{
    const uint64_t low7 = 0x7f7f7f7f7f7f7f7full;
    return ~(((v & low7) + low7) | v | low7);
}

/* Could the instruction at p create a copy of %rsp from no copies at all? Only a 64-bit
 * mov %rsp,%reg (89/8b), lea d(%rsp...),%reg (8d) or enter (c8) can, behind prefixes
 * and one REX; for anything else transfer() leaves an empty state empty, so the
 * instruction need not be decoded. (cmov %rsp,%reg (0f 4x) is not followed here: the
 * rule never did.) Exact: the scan in tl_redzone_check relies on the REX.W it needs. */
static int may_originate(const uint8_t *p, size_t avail)
{
    size_t lim = avail < 15 ? avail : 15, i = 0;
    uint8_t c = 0;
    for (; i < lim; i++) {
        c = orig_class[p[i]];
        if (c != 1) break;
    }
    if (i >= lim || c != 2) return 0;
    uint8_t op = p[i];
    if (op == 0xc8) return 1;
    /* decode()'s view: legacy prefixes, then at most one REX right before the opcode */
    size_t j = 0;
    while (j < i && (p[j] & 0xf0) != 0x40) j++;
    uint8_t rex = j < i ? p[j] : 0;
    /* a REX followed by more prefixes: decode() takes the byte after the REX, a prefix
     * value, for the opcode, which transfer() does not know: no copy either */
    if (j < i && j + 1 != i) return 0;
    if (!(rex & 8)) return 0; /* not 64-bit: transfer() makes no copy */
    if (i + 2 >= avail) return 1;
    uint8_t m = p[i + 1], mod = m >> 6, reg3 = (m >> 3) & 7, rm3 = m & 7;
    if (op == 0x89) return mod == 3 && reg3 == 4 && !(rex & 4); /* mov %rsp, r/m (register) */
    if (op == 0x8b) return mod == 3 && rm3 == 4 && !(rex & 1); /* mov %rsp, reg */
    /* lea: %rsp as the base needs a SIB byte whose base is 4 without REX.B */
    if (mod == 3 || rm3 != 4) return 0;
    uint8_t base3 = p[i + 2] & 7;
    return base3 == 4 && !(rex & 1);
}

#define SEEN(i) (seen[(i) >> 6] >> ((i)&63) & 1)
#define SET_SEEN(i) (seen[(i) >> 6] |= 1ull << ((i)&63))
#define MAXW (TL_RZ_BEFORE + TL_RZ_AFTER + 16)
#define STEP_LIMIT 4096

int tl_redzone_check(const uint8_t *code, size_t len, size_t site, struct tl_rz_result *out)
{
    struct tl_rz_result dummy;
    if (!out) out = &dummy;
    out->kind = TL_RZ_NONE;
    out->at = (uint32_t)site;
    /* the window: [lo, hi) of code[] */
    size_t lo = site > TL_RZ_BEFORE ? site - TL_RZ_BEFORE : 0;
    size_t hi = len - site > TL_RZ_AFTER ? site + TL_RZ_AFTER : len;
    if (site + 2 > len) return out->kind;
    const uint8_t *w = code + lo;
    size_t n = hi - lo, s0 = site - lo;
    if (n > MAXW) return out->kind;

    /* Until the first instruction that may create a copy of %rsp (may_originate), every
     * state is empty; and an offset is worth decoding only if it has a state (live) or
     * may create one (orig). Both are bitmaps over [0, s0]; the states themselves are a
     * mask per offset and k[] only for the registers in it, set only where live. A
     * candidate originator ends in a byte of class 2 at most 14 bytes after it, with only
     * prefixes between. */
    uint64_t orig[3] = {0, 0, 0}, live[3] = {0, 0, 0};
    uint32_t inmask[TL_RZ_BEFORE + 1];
    int32_t ink[TL_RZ_BEFORE + 1][16];
    struct st at_site;
    at_site.mask = 0;
    size_t first = s0;
    for (size_t q = 0; q < s0; q += 8) {
        /* the candidates among w[q, q + 8): c8, or 89/8b/8d (8f) after a REX.W byte */
        uint64_t cand = 0;
        if (q + 8 <= s0) {
            uint64_t v, prev;
            __builtin_memcpy(&v, w + q, 8);
            prev = v << 8 | (q ? w[q - 1] : 0);
            cand = (zero_bytes((v & 0xf9f9f9f9f9f9f9f9ull) ^ 0x8989898989898989ull) &
                    zero_bytes((prev & 0xf8f8f8f8f8f8f8f8ull) ^ 0x4848484848484848ull)) |
                zero_bytes(v ^ 0xc8c8c8c8c8c8c8c8ull);
        } else {
            for (size_t x = q; x < s0; x++)
                if (w[x] == 0xc8 || ((w[x] & 0xf9) == 0x89 && x && (w[x - 1] & 0xf8) == 0x48)) cand |= 0x80ull << 8 * (x - q);
        }
        for (; cand; cand &= cand - 1) {
            size_t at = q + (size_t)__builtin_ctzll(cand) / 8, j = at;
            while (j > 0 && at - j < 14 && orig_class[w[j - 1]] == 1) j--;
            for (; j <= at; j++)
                if (may_originate(w + j, n - j)) {
                    orig[j >> 6] |= 1ull << (j & 63);
                    if (first == s0) first = j;
                }
        }
    }
    if (first < s0) {
        for (size_t i = first;; i++) {
            /* the next offset with a state or an originator */
            size_t wd = i >> 6;
            uint64_t bits = (orig[wd] | live[wd]) & (~0ull << (i & 63));
            while (!bits && ++wd <= (s0 - 1) >> 6) bits = orig[wd] | live[wd];
            if (!bits) break;
            i = wd * 64 + (size_t)__builtin_ctzll(bits);
            if (i >= s0) break;
            struct insn d;
            if (!decode(w + i, n - i, &d)) continue;
            size_t nx = i + d.len;
            if (nx > s0) continue;
            int64_t t;
            int f = flow(&d, &t, 0);
            if (f == FLOW_END || f == FLOW_JUMP) {
                /* a call falls through in the caller's view; ret/jmp/ud2 do not */
                if (!(d.map == 0 && (d.op == 0xe8 || (d.op == 0xff && ((d.reg & 7) == 2 || (d.reg & 7) == 3))))) continue;
            }
            struct st o;
            o.mask = 0;
            if (live[i >> 6] >> (i & 63) & 1) st_load(&o, inmask[i], ink[i]);
            transfer_full(&o, w + i, &d);
            if (!o.mask) continue; /* an empty state adds nothing */
            if (live[nx >> 6] >> (nx & 63) & 1) {
                st_merge_to(&inmask[nx], ink[nx], &o);
            } else {
                st_store(&inmask[nx], ink[nx], &o);
                live[nx >> 6] |= 1ull << (nx & 63);
            }
        }
        if (live[s0 >> 6] >> (s0 & 63) & 1) st_load(&at_site, inmask[s0], ink[s0]);
    }

    /* 2. at the site */
    if (arg_below(&at_site)) {
        out->kind = TL_RZ_ARG;
        out->at = (uint32_t)site;
        return out->kind;
    }

    /* 3. after the site, following control flow inside the window; the state where a
     * path has been, stored as above (seen[] says which are set) */
    enum { stack_cap = 256 };
    uint32_t smask[MAXW];
    int32_t sk[MAXW][16];
    uint64_t seen[(MAXW + 63) / 64];
    for (size_t i = 0; i < (n + 63) / 64; i++) seen[i] = 0;
    uint16_t work[stack_cap];
    int nwork = 0, steps = 0;
    {
        struct insn d;
        if (!decode_once(w + s0, n - s0, &d)) return out->kind;
        struct st cur = at_site;
        transfer_full(&cur, w + s0, &d); /* the syscall: rax, rcx, r11 */
        size_t nx = s0 + d.len;
        if (nx < n) {
            st_store(&smask[nx], sk[nx], &cur);
            SET_SEEN(nx);
            work[nwork++] = (uint16_t)nx;
        }
    }
    while (nwork > 0) {
        size_t i = work[--nwork];
        struct st cur;
        st_load(&cur, smask[i], sk[i]);
        for (;;) {
            if (++steps > STEP_LIMIT) {
                out->kind = TL_RZ_LIMIT;
                out->at = (uint32_t)(lo + i);
                return out->kind;
            }
            struct insn d;
            if (!decode(w + i, n - i, &d)) break;
            if (i == s0 && arg_below(&cur)) {
                out->kind = TL_RZ_ARG;
                out->at = (uint32_t)site;
                return out->kind;
            }
            int u = use_of(&cur, &d);
            if (u != TL_RZ_NONE) {
                out->kind = u;
                out->at = (uint32_t)(lo + i);
                return out->kind;
            }
            int64_t t = 0;
            int f = flow(&d, &t, (int64_t)i);
            if (f == FLOW_END) break;
            transfer_full(&cur, w + i, &d);
            if (f == FLOW_JUMP || f == FLOW_BRANCH) {
                if (t >= 0 && (size_t)t < n) {
                    size_t ti = (size_t)t;
                    int changed = 1;
                    if (!SEEN(ti)) {
                        st_store(&smask[ti], sk[ti], &cur);
                        SET_SEEN(ti);
                    } else {
                        changed = st_merge_to(&smask[ti], sk[ti], &cur);
                    }
                    if (changed) {
                        if (nwork >= stack_cap) {
                            out->kind = TL_RZ_LIMIT;
                            out->at = (uint32_t)(lo + i);
                            return out->kind;
                        }
                        work[nwork++] = (uint16_t)ti;
                    }
                }
                if (f == FLOW_JUMP) break;
            }
            size_t nx = i + d.len;
            if (nx >= n) break;
            if (SEEN(nx)) {
                if (!st_merge_to(&smask[nx], sk[nx], &cur)) break; /* nothing new from here on */
                st_load(&cur, smask[nx], sk[nx]);
            } else {
                st_store(&smask[nx], sk[nx], &cur);
                SET_SEEN(nx);
            }
            i = nx;
        }
    }
    return out->kind;
}
