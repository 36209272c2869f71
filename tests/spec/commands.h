/* commands.h: runs one command of a wast2json script and says whether it passed. */
#ifndef SPEC_COMMANDS_H
#define SPEC_COMMANDS_H

#include "session.h"

typedef struct spec_verdict {
    bool counted; /* false for register, which the suite's command counts leave out */
    bool passed;
    /* Failed: why ("expected i32:2, got i32:3"). Passed: a note or empty; for an invalid or
     * malformed module, the expected text beside the engine's message (not compared). */
    char why[2 * WP_ERR_MSG_MAX];
} spec_verdict;

/* Whether a command counts as one passed or failed (every type but register). */
bool spec_command_counted(const spec_json *cmd);

/* Runs cmd (one element of the script's "commands") in ss. Every failure, of the engine or
 * of the script, becomes a failed verdict with a reason; nothing here aborts. */
void spec_command_run(spec_session *ss, const spec_json *cmd, spec_verdict *v);

#endif
