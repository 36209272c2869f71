#!/bin/sh
# validation.sh: a project full of mistakes. Every problem is reported at once, each with its
# file, line, entry and field, in the reference's words where they are known; the status is 1
# and nothing runs. Expected lines are found with grep in the YAML written here.
. "$(dirname "$0")/lib.sh"
need_guests args

P=$(project bad)
wat "$P" ok <<'EOF'
(module (func (export "run") (result i32) (i32.const 0)))
EOF
cp "$GUESTS/args.wasm" "$P/wasm/"
printf '\000asm\015\000\001\000' >"$P/wasm/component.wasm"
OK=$(sha "$P/wasm/ok.wasm")
ARGS=$(sha "$P/wasm/args.wasm")
COMP=$(sha "$P/wasm/component.wasm")
F=src/_index.yaml

cat >"$P/$F" <<EOF
namespace: app
entries:
  - name: term
    kind: terminal.host
  - name: bin
    kind: fs.directory
    directory: ./wasm
  - name: ghost_dir
    kind: fs.directory
    directory: ./no-such-dir
  - name: no_fs
    kind: process.wasm
    path: /ok.wasm
    hash: sha256:$OK
    method: run
  - name: no_path_hash_method
    kind: process.wasm
    fs: bin
  - name: bad_format
    kind: process.wasm
    fs: bin
    path: /ok.wasm
    hash: deadbeef
    method: run
  - name: bad_hex
    kind: process.wasm
    fs: bin
    path: /ok.wasm
    hash: sha256:xyz
    method: run
  - name: md5
    kind: process.wasm
    fs: bin
    path: /ok.wasm
    hash: md5:0123
    method: run
  - name: mismatch
    kind: process.wasm
    fs: bin
    path: /ok.wasm
    hash: sha256:$ARGS
    method: run
  - name: missing_file
    kind: process.wasm
    fs: bin
    path: /gone.wasm
    hash: sha256:$OK
    method: run
  - name: fs_not_found
    kind: process.wasm
    fs: nowhere
    path: /ok.wasm
    hash: sha256:$OK
    method: run
  - name: fs_wrong_kind
    kind: process.wasm
    fs: app:term
    path: /ok.wasm
    hash: sha256:$OK
    method: run
  - name: not_exported
    kind: process.wasm
    fs: bin
    path: /ok.wasm
    hash: sha256:$OK
    method: absent
  - name: component
    kind: process.wasm
    fs: bin
    path: /component.wasm
    hash: sha256:$COMP
    method: run
  - name: wasi_block
    kind: process.wasm
    fs: bin
    path: /args.wasm
    hash: sha256:$ARGS
    method: _start
    imports: [wasi1, "wasi:cli@0.2.3", "wasi:io/streams", "wasi:nope", custom]
    wasi:
      cwd: relative/dir
      env:
        - id: app:var
          name: TOKEN
        - id: app:var
          name: TOKEN
        - id: app:bin
          name: OTHER
        - name: NO_ID
        - id: app:var
          name: "bad name"
      mounts:
        - fs: bin
          guest: data
        - fs: bin
          guest: /data
        - fs: bin
          guest: /x/../data/
        - guest: /nofs
        - fs: bin
    limits:
      max_execution_ms: soon
      speed: 11
  - name: cwd_outside
    kind: process.wasm
    fs: bin
    path: /args.wasm
    hash: sha256:$ARGS
    method: _start
    imports: [wasi1]
    wasi:
      cwd: /elsewhere
      mounts:
        - fs: bin
          guest: /data
  - name: no_wasi1
    kind: process.wasm
    fs: bin
    path: /args.wasm
    hash: sha256:$ARGS
    method: _start
  - name: wit_syntax
    kind: process.wasm
    fs: bin
    path: /ok.wasm
    hash: sha256:$OK
    method: run
    wit: "run: func( -> s32;"
  - name: wit_mismatch
    kind: process.wasm
    fs: bin
    path: /ok.wasm
    hash: sha256:$OK
    method: run
    wit: "run: func(s: string) -> s32;"
  - name: wit_other
    kind: process.wasm
    fs: bin
    path: /ok.wasm
    hash: sha256:$OK
    method: run
    wit: "walk: func();"
  - name: cmd_one
    kind: process.wasm
    meta: {command: {name: same}}
    fs: bin
    path: /ok.wasm
    hash: sha256:$OK
    method: run
  - name: cmd_two
    kind: process.wasm
    meta:
      command:
        name: same
    fs: bin
    path: /ok.wasm
    hash: sha256:$OK
    method: run
  - name: cmd_unnamed
    kind: process.wasm
    meta: {command: {short: no name}}
    fs: bin
    path: /ok.wasm
    hash: sha256:$OK
    method: run
  - name: fn_command
    kind: function.wasm
    meta: {command: {name: fn}}
    fs: bin
    path: /ok.wasm
    hash: sha256:$OK
    method: run
  - name: bad_wat
    kind: function.wat
    source: "(module (func (export \"f\") i32.add oops))"
    method: f
  - name: wat_file
    kind: function.wat
    source: file://missing.wat
    method: f
  - name: var
    kind: env.variable
    variable: TOKEN
    storage: os
  - name: var_twin
    kind: env.variable
    variable: TOKEN
    storage: os
  - name: var_bad
    kind: env.variable
    variable: "no-dashes"
    storage: os
  - name: var_nostore
    kind: env.variable
    storage: nothing_here
  - name: os
    kind: env.storage.os
  - name: loop_a
    kind: env.storage.router
    storages: [loop_b]
  - name: loop_b
    kind: env.storage.router
    storages: [loop_a]
  - name: envfile
    kind: env.storage.file
  - name: term
    kind: terminal.host
  - kind: process.wasm
  - name: kindless
EOF
cat >"$P/src/broken.yaml" <<'EOF'
namespace: app.more
entries:
  - name: a
    kind: [unclosed
EOF
cat >"$P/src/nons.yaml" <<'EOF'
entries:
  - name: a
    kind: terminal.host
EOF
cat >"$P/src/notes.yaml" <<'EOF'
# not a definition file: no namespace, no entries
title: something else
EOF

# line TEXT: the line of the first line of $F holding TEXT (fixed string).
line() {
    grep -n -F -- "$1" "$P/$F" | head -n 1 | cut -d: -f1
}
# line_after ANCHOR TEXT: the first line holding TEXT after the line holding ANCHOR.
line_after() {
    a=$(line "$1")
    tail -n "+$a" "$P/$F" | grep -n -F -- "$2" | head -n 1 |
        awk -F: -v a="$a" '{print $1 + a - 1}'
}
# entry_line NAME: the line of "- name: NAME".
entry_line() {
    line "- name: $1"
}

run "$P" run list
check_eq "problems: status" "$rc" 1
check_eq "problems: nothing runs, nothing on stdout" "$out" ""
# expect TEXT: the problem line is reported.
expect() {
    check_contains "reported: $1" "$err" "$1"
}

expect "$F:$(line_after '- name: ghost_dir' directory:): app:ghost_dir: directory: directory $P/no-such-dir does not exist"
expect "$F:$(entry_line no_fs): app:no_fs: fs: fs is required"
expect "$F:$(entry_line no_path_hash_method): app:no_path_hash_method: path: path is required"
expect "$F:$(entry_line no_path_hash_method): app:no_path_hash_method: hash: hash is required"
expect "$F:$(entry_line no_path_hash_method): app:no_path_hash_method: method: method is required"
expect "$F:$(line 'hash: deadbeef'): app:bad_format: hash: invalid hash format: deadbeef"
expect "$F:$(line 'hash: sha256:xyz'): app:bad_hex: hash: invalid hash format: sha256:xyz"
expect "$F:$(line 'hash: md5:0123'): app:md5: hash: unsupported hash algorithm: md5"
expect "$F:$(line_after '- name: mismatch' hash:): app:mismatch: hash: hash verification failed: hash mismatch: expected $ARGS, got $OK"
expect "$F:$(line 'path: /gone.wasm'): app:missing_file: path: cannot read $P/wasm/gone.wasm: No such file or directory"
expect "$F:$(line 'fs: nowhere'): app:fs_not_found: fs: entry app:nowhere not found"
expect "$F:$(line 'fs: app:term'): app:fs_wrong_kind: fs: app:term is a terminal.host, not a fs.directory"
expect "$F:$(line 'method: absent'): app:not_exported: method: method absent is not an exported function of the module"
expect "$F:$(line_after '- name: component' 'method: run'): app:component: method: method run is not a function the component exports"
I=$(line 'imports: [wasi1, "wasi:cli')
expect "$F:$I: app:wasi_block: imports[2]: wasi:cli@0.2.3 (wasi:cli) is a WASI 0.2 import for components"
expect "$F:$I: app:wasi_block: imports[3]: wasi:io/streams (wasi:io) is a WASI 0.2 import for components"
expect "$F:$I: app:wasi_block: imports[4]: unsupported wasm host import: wasi:nope"
expect "$F:$I: app:wasi_block: imports[5]: unsupported wasm host import: custom"
expect "$F:$(line 'cwd: relative/dir'): app:wasi_block: wasi.cwd: wasi.cwd must be absolute"
T=$(line_after '- name: wasi_block' 'name: TOKEN')
expect "$F:$((T + 2)): app:wasi_block: wasi.env[2].name: duplicate wasi env name TOKEN"
expect "$F:$(line 'id: app:bin'): app:wasi_block: wasi.env[3].id: app:bin is a fs.directory, not a env.variable"
expect "$F:$(line 'name: NO_ID'): app:wasi_block: wasi.env[4].id: wasi.env[4].id is required"
expect "$F:$(line 'name: "bad name"'): app:wasi_block: wasi.env[5].name: invalid env name \"bad name\""
expect "$F:$(line 'guest: data'): app:wasi_block: wasi.mounts[1].guest: mount guest path must be absolute: data"
expect "$F:$(line 'guest: /x/../data/'): app:wasi_block: wasi.mounts[3].guest: duplicate mount guest path: /data"
expect "$F:$(line 'guest: /nofs'): app:wasi_block: wasi.mounts[4].fs: wasi.mounts[4].fs is required"
expect "app:wasi_block: wasi.mounts[5].guest: wasi.mounts[5].guest is required"
expect "$F:$(line 'max_execution_ms: soon'): app:wasi_block: limits.max_execution_ms: limits.max_execution_ms must be a non-negative integer"
expect "$F:$(line 'speed: 11'): app:wasi_block: limits.speed: unknown limit speed"
expect "$F:$(line 'cwd: /elsewhere'): app:cwd_outside: wasi.cwd: wasi.cwd /elsewhere is not inside any of wasi.mounts"
expect "$F:$(entry_line no_wasi1): app:no_wasi1: imports: the module imports wasi_snapshot_preview1."
expect ": add wasi1 to imports for WASI preview 1"
expect "$F:$(line 'run: func( -> s32;'): app:wit_syntax: wit: line 1, column 12: expected a name, found '->'"
expect "$F:$(line 'run: func(s: string) -> s32;'): app:wit_mismatch: wit: wit signature of 'run' lowers to core type (i32, i32) -> (i32), the export has () -> (i32)"
expect "$F:$(line 'walk: func();'): app:wit_other: wit: wit declares no function run"
expect "$F:$(line_after '- name: cmd_two' 'name: same'): app:cmd_two: meta.command.name: command name \"same\" is already used by app:cmd_one ($F:$(entry_line cmd_one))"
expect "$F:$(line 'meta: {command: {short: no name}}'): app:cmd_unnamed: meta.command.name: meta.command.name is required"
expect "$F:$(line 'meta: {command: {name: fn}}'): app:fn_command: meta.command: meta.command is only for process entries, not function.wasm"
expect "$F:$(line 'source: "(module'): app:bad_wat: source: invalid WAT: line 1, column"
expect "$F:$(line 'source: file://missing.wat'): app:wat_file: source: cannot read $P/src/missing.wat: No such file or directory"
expect "$F:$(line_after '- name: var_twin' 'variable: TOKEN'): app:var_twin: variable: variable name TOKEN is already used by app:var"
expect "$F:$(line 'variable: "no-dashes"'): app:var_bad: variable: invalid variable name \"no-dashes\""
expect "$F:$(line 'storage: nothing_here'): app:var_nostore: storage: entry app:nothing_here not found"
expect "app:loop_a: dependency cycle through app:loop_a"
expect "$F:$(entry_line envfile): app:envfile: file_path: file_path is required"
T2=$(grep -n -F -- '- name: term' "$P/$F" | tail -n 1 | cut -d: -f1)
expect "$F:$T2: app:term: duplicate entry ID app:term (first defined at $F:$(entry_line term))"
expect "$F:$(line '- kind: process.wasm'): name: name is required"
expect "$F:$(entry_line kindless): kind: kind is required"
expect "src/broken.yaml:5: invalid YAML: "
expect "src/nons.yaml:1: namespace: namespace is required"
check_lacks "a YAML file that is not a definition file is skipped" "$err" "notes.yaml"
count=$(echo "$err" | grep -c '^src/')
expect "wippy: $count problems found; nothing was started"
check_eq "every problem at once, each on its own line" "$count" 49

# A command in a broken project does not run either.
run "$P" run -x app:bin
check_eq "a broken project runs nothing: status" "$rc" 1
check_contains "a broken project runs nothing: the problems" "$err" "problems found; nothing was started"

# ---- Env at run time ------------------------------------------------------------------------
R=$(project envrun)
cp "$GUESTS/args.wasm" "$R/wasm/"
cat >"$R/src/_index.yaml" <<EOF
namespace: app
entries:
  - {name: term, kind: terminal.host}
  - {name: bin, kind: fs.directory, directory: ./wasm}
  - {name: os, kind: env.storage.os}
  - {name: token, kind: env.variable, variable: TOKEN, storage: os}
  - {name: mode, kind: env.variable, variable: MODE, storage: os, default: fast}
  - {name: opt, kind: env.variable, storage: os}
  - {name: made, kind: fs.directory, directory: ./made/here, auto_init: true, mode: "0700"}
  - name: show
    kind: process.wasm
    meta: {command: {name: show}}
    fs: bin
    path: /args.wasm
    hash: sha256:$(sha "$R/wasm/args.wasm")
    method: _start
    imports: [wasi1]
    wasi:
      env:
        - {id: token, name: API_TOKEN, required: true}
        - {id: app:mode, name: MODE}
        - {id: opt, name: OPTIONAL}
      mounts:
        - {fs: made, guest: /work}
      cwd: /work/
EOF
run "$R" run list
check_eq "a valid project lists" "$rc" 0
[ ! -e "$R/made" ] && pass "auto_init: nothing is made while loading" || fail "auto_init made too early"
(cd "$R" && env -u TOKEN "$WIPPY" run show) >"$TMP/out" 2>"$TMP/err"
check_eq "required env variable missing: status" "$?" 1
check_eq "required env variable missing: message" "$(cat "$TMP/err")" \
    "wippy: required env variable API_TOKEN (app:token) is not set"
(cd "$R" && env -u opt TOKEN=s3cret "$WIPPY" run show) >"$TMP/out" 2>"$TMP/err"
[ -d "$R/made/here" ] && [ "$(stat -c %a "$R/made/here")" = 700 ] &&
    pass "auto_init: a mounted directory is made when the command runs, with its mode" ||
    fail "auto_init: $R/made/here was not made (or with the wrong mode)"
check_eq "env: values and defaults reach the guest, unset optional ones do not" \
    "$(grep '^env' "$TMP/out")" "env [API_TOKEN=s3cret]
env [MODE=fast]"
(cd "$R" && TOKEN=t opt=here MODE=slow "$WIPPY" run show) >"$TMP/out" 2>"$TMP/err"
check_eq "env: the OS value wins over the default; a private variable is read by its name" \
    "$(grep '^env' "$TMP/out")" "env [API_TOKEN=t]
env [MODE=slow]
env [OPTIONAL=here]"

finish
