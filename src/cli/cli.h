/* cli.h: shared by the wippy command's files only. */
#ifndef WP_CLI_H
#define WP_CLI_H

#include <stdio.h>

#include "wippy/wasm.h"

/* Exit statuses of the wippy command, documented in `wippy help`. */
enum {
    WP_EXIT_OK = 0,
    WP_EXIT_ERROR = 1, /* a file, module or link problem: the message says which */
    WP_EXIT_USAGE = 2, /* bad command line */
    WP_EXIT_TRAP = 3,  /* the guest trapped */
};

/* `wippy exec ...`: argv[0] is "exec". Returns the exit status. */
int wp_cli_exec(int argc, char **argv);

/* `wippy run ...`: argv[0] is "run". Returns the exit status. */
int wp_cli_run(int argc, char **argv);

/* Parses a command-line argument as a value of type t (integers in decimal or 0x hex, with a
 * sign; floats as strtod reads them, "nan", "inf"). Fails with WP_ERR_INVALID naming the text. */
wp_status wp_cli_parse_value(const char *text, wp_valtype t, wp_val *out, wp_err *err);

/* Prints v in the shortest form that reads back to the same value (i32/i64 signed). */
void wp_cli_print_value(FILE *out, wp_val v);

/* Reads a whole file; *out is malloc'd (free it). A name ending in ".wat" is translated from
 * text. Fails with WP_ERR_NOT_FOUND / WP_ERR_INVALID and a message naming the file. */
wp_status wp_cli_load_module_bytes(const char *path, uint8_t **out, size_t *len, wp_err *err);

#endif
