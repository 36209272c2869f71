/* opcodes.c: the opcode tables built from opcodes.def. */
#include "internal.h"

const wp_opinfo wp__ops[256] = {
#define WP_OP(byte, ident, name, imm, sig, size) [byte] = {name, WP_IMM_##imm, sig, size},
#include "opcodes.def"
};

const wp_opinfo wp__ops_fc[WP_OPFC_COUNT] = {
#define WP_OPFC(sub, ident, name, imm, sig) [sub] = {name, WP_IMM_##imm, sig, 0},
#include "opcodes.def"
};

const char *wp_valtype_name(wp_valtype t) {
    switch (t) {
    case WP_I32:
        return "i32";
    case WP_I64:
        return "i64";
    case WP_F32:
        return "f32";
    case WP_F64:
        return "f64";
    case WP_V128:
        return "v128";
    case WP_FUNCREF:
        return "funcref";
    case WP_EXTERNREF:
        return "externref";
    }
    return "?";
}
