/* The red-zone rule as it was before it was made faster (lazy/redzone.c at 795dcc5),
 * every name prefixed rzold_: test/c/rzdiff.c runs it next to the current one and
 * asserts the same verdict (kind and at) for every input. Test-only; not compiled on
 * its own (test/c/ globs *.c). Do not edit: it is the reference. */
#include "lazy/redzone.h"

/* ---- decoder --------------------------------------------------------------------------- */

struct rzold_insn {
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
static const uint8_t rzold_op1[256] = {
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
static const uint8_t rzold_op2[256] = {
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

#define rzold_T_MODRM 8
#define rzold_T_INVALID 16

/* immediate bytes of a one-byte opcode; -1: moffs */
static int rzold_imm1(uint8_t op, int osize16, int w, uint8_t reg)
{
    switch (rzold_op1[op] & 7) {
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

static int rzold_imm2(uint8_t op)
{
    int c = rzold_op2[op] & 7;
    return c == 4 ? 4 : c;
}

static int64_t rzold_sread(const uint8_t *p, int n)
{
    switch (n) {
    case 1: return (int8_t)p[0];
    case 2: return (int16_t)(p[0] | p[1] << 8);
    case 4: return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
    case 8: {
        uint64_t v = 0;
        for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
        return (int64_t)v;
    }
    }
    return 0;
}

/* Decodes the instruction at p; its length, 0 if invalid or cut off by avail. */
static int rzold_decode(const uint8_t *p, size_t avail, struct rzold_insn *d)
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
        uint8_t b = p[i];
        if (b == 0x66)
            osize16 = 1;
        else if (b == 0x67)
            asize32 = 1;
        else if (b == 0xf2 || b == 0xf3)
            rep = b;
        else if (b == 0xf0 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x26 || b == 0x64 || b == 0x65) {
        } else
            break;
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
        } else if (rzold_op2[op] & rzold_T_INVALID) {
            return 0;
        }
    } else if (rzold_op1[op] & rzold_T_INVALID) {
        return 0;
    }
    int modrm;
    if (vex)
        modrm = !(map == 1 && op == 0x77);
    else if (map == 0)
        modrm = (rzold_op1[op] & rzold_T_MODRM) != 0;
    else if (map == 1)
        modrm = (rzold_op2[op] & rzold_T_MODRM) != 0;
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
            d->disp = rzold_sread(p + i, disp);
            /* EVEX disp8 is scaled by the operand size (1..64): take the magnitude that
             * makes the address lowest (conservative for "below rsp") */
            if (evex && disp == 1) d->disp = d->disp < 0 ? d->disp * 64 : d->disp;
            i += (size_t)disp;
        }
    }
    int imm;
    if (vex)
        imm = map == 3 || (map == 1 && rzold_imm2(op) == 1) ? 1 : 0;
    else if (map == 0)
        imm = rzold_imm1(op, osize16, w, reg3);
    else if (map == 1)
        imm = rzold_imm2(op);
    else
        imm = map == 3 ? 1 : 0;
    if (imm < 0) imm = asize32 ? 4 : 8; /* moffs */
    if (i + (size_t)imm > n) return 0;
    if (imm == 1 || imm == 2 || imm == 4 || imm == 8)
        d->imm = rzold_sread(p + i, imm);
    else if (imm == 3)
        d->imm = rzold_sread(p + i, 2); /* enter: the frame size */
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

int rzold_tl_insn_length(const uint8_t *p, size_t avail)
{
    struct rzold_insn d;
    return rzold_decode(p, avail, &d);
}

/* ---- the analysis ------------------------------------------------------------------------ */

#define rzold_RSP 4
#define rzold_KMIN (-(1 << 20))
#define rzold_KMAX (1 << 20)

/* Registers that may hold %rsp + k: bit r of mask, with k[r] the smallest k. %rsp itself
 * is always %rsp + 0 and not in the mask. */
struct rzold_st {
    uint32_t mask;
    int32_t k[16];
};

static int32_t rzold_clampk(int64_t v) { return (int32_t)(v < rzold_KMIN ? rzold_KMIN : v > rzold_KMAX ? rzold_KMAX : v); }

static void rzold_st_clear(struct rzold_st *s) { s->mask = 0; }

/* into := into U from; 1 if into changed */
static int rzold_st_merge(struct rzold_st *into, const struct rzold_st *from)
{
    int changed = 0;
    if (!from->mask) return 0;
    for (int r = 0; r < 16; r++) {
        if (!(from->mask >> r & 1)) continue;
        if (!(into->mask >> r & 1)) {
            into->mask |= 1u << r;
            into->k[r] = from->k[r];
            changed = 1;
        } else if (from->k[r] < into->k[r]) {
            into->k[r] = from->k[r];
            changed = 1;
        }
    }
    return changed;
}

static int rzold_is_copy(const struct rzold_st *s, int r, int32_t *k)
{
    if (r == rzold_RSP) {
        *k = 0;
        return 1;
    }
    if (r < 0 || r > 15 || !(s->mask >> r & 1)) return 0;
    *k = s->k[r];
    return 1;
}

static void rzold_set_copy(struct rzold_st *s, int r, int64_t k)
{
    if (r == rzold_RSP) return;
    s->mask |= 1u << r;
    s->k[r] = rzold_clampk(k);
}

static void rzold_kill(struct rzold_st *s, int r)
{
    if (r != rzold_RSP) s->mask &= ~(1u << r);
}

/* %rsp moved by delta (new rsp = old rsp + delta): every copy's k shifts the other way */
static void rzold_rsp_moved(struct rzold_st *s, int64_t delta)
{
    for (int r = 0; r < 16; r++)
        if (s->mask >> r & 1) s->k[r] = rzold_clampk((int64_t)s->k[r] - delta);
}

/* how an instruction ends a path */
enum { rzold_FLOW_NEXT, rzold_FLOW_END, rzold_FLOW_JUMP, rzold_FLOW_BRANCH };

static int rzold_flow(const struct rzold_insn *d, int64_t *target, int64_t at)
{
    if (d->map == 0) {
        uint8_t op = d->op;
        if ((op >= 0x70 && op <= 0x7f) || (op >= 0xe0 && op <= 0xe3)) {
            *target = at + d->len + d->imm;
            return rzold_FLOW_BRANCH;
        }
        if (op == 0xeb || op == 0xe9) {
            *target = at + d->len + d->imm;
            return rzold_FLOW_JUMP;
        }
        if (op == 0xc3 || op == 0xc2 || op == 0xcb || op == 0xca || op == 0xcc || op == 0xcf || op == 0xf4) return rzold_FLOW_END;
        if (op == 0xe8) return rzold_FLOW_END; /* call: writes rsp-8 itself */
        if (op == 0xff && (d->reg & 7) >= 2 && (d->reg & 7) <= 5) return rzold_FLOW_END; /* indirect call/jmp */
    } else if (d->map == 1) {
        if (d->op >= 0x80 && d->op <= 0x8f) {
            *target = at + d->len + d->imm;
            return rzold_FLOW_BRANCH;
        }
        if (d->op == 0x0b || d->op == 0xb9 || d->op == 0xff) return rzold_FLOW_END; /* ud2, ud1, ud0 */
    }
    return rzold_FLOW_NEXT;
}

/* Applies d's effect on the copies; for calls in the backward pass (the path goes on in
 * the caller's view) the caller-saved registers are dropped. */
static void rzold_transfer(struct rzold_st *s, const struct rzold_insn *d)
{
    int32_t k;
    int r = d->reg, m = d->rm, reg_dst = d->mod == 3;
    if (d->map == 0) {
        uint8_t op = d->op;
        if (op >= 0x50 && op <= 0x57) {
            rzold_rsp_moved(s, -8);
            return;
        }
        if (op >= 0x58 && op <= 0x5f) {
            rzold_rsp_moved(s, 8);
            return;
        } /* the register: rzold_transfer_full */
        if (op == 0x68 || op == 0x6a || op == 0x9c) {
            rzold_rsp_moved(s, -8);
            return;
        }
        if (op == 0x9d) {
            rzold_rsp_moved(s, 8);
            return;
        }
        if (op >= 0xb8 && op <= 0xbf) return; /* handled by the caller (needs REX.B) */
        switch (op) {
        case 0x89:
        case 0x8b: {
            if (!reg_dst) return;
            int src = op == 0x89 ? r : m, dst = op == 0x89 ? m : r;
            if (dst == rzold_RSP) {
                if (d->w && rzold_is_copy(s, src, &k))
                    rzold_rsp_moved(s, k);
                else
                    rzold_st_clear(s); /* a stack switch: nothing known */
                return;
            }
            if (d->w && rzold_is_copy(s, src, &k))
                rzold_set_copy(s, dst, k);
            else
                rzold_kill(s, dst);
            return;
        }
        case 0x8d:
            if (d->base >= 0 && d->base < 16 && d->w && rzold_is_copy(s, d->base, &k)) {
                if (r == rzold_RSP)
                    rzold_rsp_moved(s, k + d->disp);
                else
                    rzold_set_copy(s, r, (int64_t)k + d->disp);
            } else {
                rzold_kill(s, r);
            }
            return;
        case 0x63: rzold_kill(s, r); return;
        case 0x81:
        case 0x83:
            if (!reg_dst || !d->w) {
                if (reg_dst && (d->reg & 7) != 7) rzold_kill(s, m);
                return;
            }
            if (m == rzold_RSP) {
                if ((d->reg & 7) == 0)
                    rzold_rsp_moved(s, d->imm);
                else if ((d->reg & 7) == 5)
                    rzold_rsp_moved(s, -d->imm);
                return;
            }
            if (!rzold_is_copy(s, m, &k)) return;
            switch (d->reg & 7) {
            case 0: rzold_set_copy(s, m, (int64_t)k + d->imm); break;
            case 5: rzold_set_copy(s, m, (int64_t)k - d->imm); break;
            case 4:
                if (d->imm < 0)
                    rzold_set_copy(s, m, (int64_t)k + d->imm + 1);
                else
                    rzold_kill(s, m);
                break;
            }
            return;
        case 0x31:
        case 0x33:
        case 0x29:
        case 0x2b:
            if (reg_dst && r == m) rzold_kill(s, r);
            return;
        case 0x87:
            if (reg_dst) {
                int32_t kr, km;
                int cr = rzold_is_copy(s, r, &kr), cm = rzold_is_copy(s, m, &km);
                if (r == rzold_RSP || m == rzold_RSP) {
                    rzold_st_clear(s);
                    return;
                }
                rzold_kill(s, r);
                rzold_kill(s, m);
                if (cr) rzold_set_copy(s, m, kr);
                if (cm) rzold_set_copy(s, r, km);
            } else {
                rzold_kill(s, r);
            }
            return;
        case 0x8f:
            rzold_rsp_moved(s, 8);
            if (reg_dst) rzold_kill(s, m);
            return;
        case 0xc9: { /* leave: mov %rbp,%rsp; pop %rbp */
            if (rzold_is_copy(s, 5, &k))
                rzold_rsp_moved(s, k);
            else
                rzold_st_clear(s);
            rzold_rsp_moved(s, 8);
            rzold_kill(s, 5);
            return;
        }
        case 0xc8: /* enter $n: push %rbp; mov %rsp,%rbp; sub $n,%rsp */
            rzold_rsp_moved(s, -8);
            rzold_set_copy(s, 5, 0);
            rzold_rsp_moved(s, -(d->imm & 0xffff));
            return;
        case 0xc7:
            if (reg_dst) rzold_kill(s, m);
            return;
        case 0xe8: /* call (backward pass): caller-saved registers are gone */
            for (int x = 0; x < 16; x++)
                if (x == 0 || x == 1 || x == 2 || x == 6 || x == 7 || (x >= 8 && x <= 11)) rzold_kill(s, x);
            return;
        case 0xff:
            if ((d->reg & 7) == 6)
                rzold_rsp_moved(s, -8);
            else if ((d->reg & 7) == 2 || (d->reg & 7) == 3)
                for (int x = 0; x < 16; x++)
                    if (x == 0 || x == 1 || x == 2 || x == 6 || x == 7 || (x >= 8 && x <= 11)) rzold_kill(s, x);
            return;
        }
        return;
    }
    if (d->map == 1) {
        if (d->op == 0x05) {
            rzold_kill(s, 0);
            rzold_kill(s, 1);
            rzold_kill(s, 11);
            return;
        } /* syscall */
        if (d->op == 0xb6 || d->op == 0xb7 || d->op == 0xbe || d->op == 0xbf) {
            rzold_kill(s, r);
            return;
        }
        if (d->op >= 0x40 && d->op <= 0x4f && reg_dst && d->w && rzold_is_copy(s, m, &k)) { /* cmov */
            struct rzold_st one;
            one.mask = 0;
            rzold_set_copy(&one, r, k);
            rzold_st_merge(s, &one);
        }
    }
}

/* Register number of a one-byte opcode's +r form (needs REX.B, which rzold_decode() folded into
 * rm only for ModRM forms): recovered from the bytes. */
static int rzold_plus_r(const uint8_t *p, const struct rzold_insn *d)
{
    int i = d->len - 1 - (d->imm_len > 0 ? d->imm_len : 0);
    int rexb = i > 0 && (p[i - 1] & 0xf0) == 0x40 ? p[i - 1] & 1 : 0;
    return (d->op & 7) | rexb << 3;
}

/* the one-byte ops whose register is in the opcode: mov imm (b8+r) kills, pop (58+r) kills */
static void rzold_transfer_full(struct rzold_st *s, const uint8_t *p, const struct rzold_insn *d)
{
    if (d->map == 0 && d->op >= 0xb8 && d->op <= 0xbf) {
        rzold_kill(s, rzold_plus_r(p, d));
        return;
    }
    if (d->map == 0 && d->op >= 0x58 && d->op <= 0x5f) {
        int r = rzold_plus_r(p, d);
        rzold_transfer(s, d);
        if (r == rzold_RSP)
            rzold_st_clear(s);
        else
            rzold_kill(s, r);
        return;
    }
    if (d->map == 0 && d->op >= 0x91 && d->op <= 0x97) { /* xchg %rax, r */
        int r = rzold_plus_r(p, d);
        int32_t ka, kr;
        int ca = rzold_is_copy(s, 0, &ka), cr = rzold_is_copy(s, r, &kr);
        if (r == rzold_RSP) {
            rzold_st_clear(s);
            return;
        }
        rzold_kill(s, 0);
        rzold_kill(s, r);
        if (ca) rzold_set_copy(s, r, ka);
        if (cr) rzold_set_copy(s, 0, kr);
        return;
    }
    rzold_transfer(s, d);
}

/* An instruction that only writes its memory operand (mov, setcc, SSE/AVX stores): a
 * store after the site cannot observe what the callq wrote there. */
static int rzold_pure_store(const struct rzold_insn *d)
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
static int rzold_use_of(const struct rzold_st *s, const struct rzold_insn *d)
{
    int32_t k;
    if (d->has_modrm && d->mod != 3 && d->base >= 0 && d->base < 16) {
        int ignore = (d->map == 0 && d->op == 0x8d) || /* lea computes */
            (d->map == 1 && ((d->op >= 0x18 && d->op <= 0x1f) || d->op == 0x0d)) || /* nop, prefetch */
            rzold_pure_store(d);
        if (!ignore && rzold_is_copy(s, d->base, &k) && (int64_t)k + d->disp < 0)
            return d->base == rzold_RSP ? TL_RZ_BELOW_RSP : TL_RZ_VIA_COPY;
    }
    if (d->map == 0 && (d->op == 0x89 || d->op == 0x87) && d->mod != 3 && d->w && rzold_is_copy(s, d->reg, &k) && k < 0)
        return TL_RZ_ESCAPE;
    if (d->map == 0 && ((d->op >= 0xa4 && d->op <= 0xa7) || (d->op >= 0xaa && d->op <= 0xaf))) {
        if ((rzold_is_copy(s, 7, &k) && k < 0) ||
            (rzold_is_copy(s, 6, &k) && k < 0 && d->op != 0xaa && d->op != 0xab && d->op != 0xae && d->op != 0xaf))
            return TL_RZ_STRING;
    }
    return TL_RZ_NONE;
}

static int rzold_arg_below(const struct rzold_st *s)
{
    static const int args[6] = {7, 6, 2, 10, 8, 9};
    int32_t k;
    for (int i = 0; i < 6; i++)
        if (rzold_is_copy(s, args[i], &k) && k < 0) return 1;
    return 0;
}

/* Could the instruction at p create a copy of %rsp from nothing (mov, lea, enter)? */
static int rzold_may_originate(const uint8_t *p, size_t avail)
{
    size_t i = 0;
    while (i < avail && i < 15) {
        uint8_t b = p[i];
        if (b == 0x66 || b == 0x67 || b == 0xf2 || b == 0xf3 || b == 0xf0 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x26 ||
            b == 0x64 || b == 0x65 || (b & 0xf0) == 0x40) {
            i++;
            continue;
        }
        return b == 0x89 || b == 0x8b || b == 0x8d || b == 0xc8;
    }
    return 0;
}

#define rzold_MAXW (TL_RZ_BEFORE + TL_RZ_AFTER + 16)
#define rzold_STEP_LIMIT 4096

int rzold_tl_redzone_check(const uint8_t *code, size_t len, size_t site, struct tl_rz_result *out)
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
    if (n > rzold_MAXW) return out->kind;

    /* 1. every linear decoding from the window start that falls through into the site.
     * Copies of %rsp originate only in mov (89/8b) with a ModRM naming %rsp, lea (8d)
     * with a SIB byte, or enter (c8): without such bytes there is nothing to follow. */
    struct rzold_st in[TL_RZ_BEFORE + 1];
    size_t first = s0;
    for (size_t i = 0; i < s0; i++) {
        uint8_t b = w[i], m = i + 1 < n ? w[i + 1] : 0;
        if (b == 0xc8 || ((b == 0x89 || b == 0x8b || b == 0x8d) && ((m & 7) == 4 || ((m >> 3) & 7) == 4))) {
            first = i > 15 ? i - 15 : 0;
            break;
        } /* with its prefixes */
    }
    for (size_t i = 0; i <= s0; i++) in[i].mask = 0;
    for (size_t i = first; i < s0; i++) {
        struct rzold_insn d;
        if (!in[i].mask && !rzold_may_originate(w + i, n - i)) continue; /* empty stays empty */
        if (!rzold_decode(w + i, n - i, &d)) continue;
        size_t nx = i + d.len;
        if (nx > s0) continue;
        int64_t t;
        if (rzold_flow(&d, &t, 0) == rzold_FLOW_END || rzold_flow(&d, &t, 0) == rzold_FLOW_JUMP) {
            /* a call falls through in the caller's view; ret/jmp/ud2 do not */
            if (!(d.map == 0 && (d.op == 0xe8 || (d.op == 0xff && ((d.reg & 7) == 2 || (d.reg & 7) == 3))))) continue;
        }
        struct rzold_st o = in[i];
        rzold_transfer_full(&o, w + i, &d);
        rzold_st_merge(&in[nx], &o);
    }
    struct rzold_st at_site = in[s0];

    /* 2. at the site */
    if (rzold_arg_below(&at_site)) {
        out->kind = TL_RZ_ARG;
        out->at = (uint32_t)site;
        return out->kind;
    }

    /* 3. after the site, following control rzold_flow inside the window */
    enum { stack_cap = 256 };
    struct rzold_st state[rzold_MAXW];
    uint8_t seen[rzold_MAXW];
    for (size_t i = 0; i < n; i++) seen[i] = 0;
    uint16_t work[stack_cap];
    int nwork = 0, steps = 0;
    {
        struct rzold_insn d;
        if (!rzold_decode(w + s0, n - s0, &d)) return out->kind;
        state[s0] = at_site;
        rzold_transfer_full(&state[s0], w + s0, &d); /* the syscall: rax, rcx, r11 */
        size_t nx = s0 + d.len;
        if (nx < n) {
            state[nx] = state[s0];
            seen[nx] = 1;
            work[nwork++] = (uint16_t)nx;
        }
    }
    while (nwork > 0) {
        size_t i = work[--nwork];
        struct rzold_st cur = state[i];
        for (;;) {
            if (++steps > rzold_STEP_LIMIT) {
                out->kind = TL_RZ_LIMIT;
                out->at = (uint32_t)(lo + i);
                return out->kind;
            }
            struct rzold_insn d;
            if (!rzold_decode(w + i, n - i, &d)) break;
            if (i == s0 && rzold_arg_below(&cur)) {
                out->kind = TL_RZ_ARG;
                out->at = (uint32_t)site;
                return out->kind;
            }
            int u = rzold_use_of(&cur, &d);
            if (u != TL_RZ_NONE) {
                out->kind = u;
                out->at = (uint32_t)(lo + i);
                return out->kind;
            }
            int64_t t = 0;
            int f = rzold_flow(&d, &t, (int64_t)i);
            if (f == rzold_FLOW_END) break;
            rzold_transfer_full(&cur, w + i, &d);
            if (f == rzold_FLOW_JUMP || f == rzold_FLOW_BRANCH) {
                if (t >= 0 && (size_t)t < n) {
                    size_t ti = (size_t)t;
                    int changed = !seen[ti] ? (state[ti] = cur, seen[ti] = 1, 1) : rzold_st_merge(&state[ti], &cur);
                    if (changed) {
                        if (nwork >= stack_cap) {
                            out->kind = TL_RZ_LIMIT;
                            out->at = (uint32_t)(lo + i);
                            return out->kind;
                        }
                        work[nwork++] = (uint16_t)ti;
                    }
                }
                if (f == rzold_FLOW_JUMP) break;
            }
            size_t nx = i + d.len;
            if (nx >= n) break;
            if (seen[nx]) {
                if (!rzold_st_merge(&state[nx], &cur)) break; /* nothing new from here on */
                cur = state[nx];
            } else {
                state[nx] = cur;
                seen[nx] = 1;
            }
            i = nx;
        }
    }
    return out->kind;
}
