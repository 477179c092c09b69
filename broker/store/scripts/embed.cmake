# Generates scripts.h (enum script_id, one SCRIPT_<NAME> per Lua file) and
# scripts.c (each script's name, source with prelude_core.lua and prelude.lua
# prepended - only the first with "-- PRELUDE: core", none with "-- PRELUDE:
# none" - and the
# number of KEYS its "-- KEYS:" line declares; -1 for "variable"), so the
# list of scripts lives in one place: the .lua files of this folder.
# Run as: cmake -DOUT_DIR=dir -DDIR=scripts-dir -P embed.cmake
file(GLOB lua RELATIVE "${DIR}" "${DIR}/*.lua")
list(REMOVE_ITEM lua prelude.lua prelude_core.lua)
list(SORT lua)
file(READ "${DIR}/prelude_core.lua" core)
file(READ "${DIR}/prelude.lua" full)
set(enum "")
set(defs "")
foreach(f ${lua})
  string(REGEX REPLACE "\\.lua$" "" n "${f}")
  string(TOUPPER "${n}" N)
  file(READ "${DIR}/${f}" body)
  if(NOT body MATCHES "\n-- KEYS: ([^\n]*)")
    message(FATAL_ERROR "${f}: no '-- KEYS:' line on its second line")
  endif()
  set(decl "${CMAKE_MATCH_1}")
  # "-- PRELUDE: core": only prelude_core.lua (the publish step's helpers).
  if(body MATCHES "\n-- PRELUDE: none\n")
    set(prelude "")
  elseif(body MATCHES "\n-- PRELUDE: core\n")
    set(prelude "${core}")
  else()
    set(prelude "${core}${full}")
  endif()
  # A script whose last KEY is "audit-log" appends the call's audit entry
  # to that stream in the same step (store_audit_next).
  set(audited 0)
  if(decl MATCHES "(^| )audit-log$")
    set(audited 1)
  endif()
  if(decl MATCHES "^variable")
    set(nkeys -1)
  else()
    string(REGEX REPLACE " +" ";" words "${decl}")
    list(LENGTH words nkeys)
  endif()
  if(audited)
    # Before the script changes anything: a stale sinks version answers
    # AUDIT_STALE (prelude.lua audit_stale) and the link resends.
    set(text "${prelude}do local st = audit_stale() if st then return st end end\n${body}")
  else()
    set(text "${prelude}${body}")
  endif()
  string(REPLACE "\\" "\\\\" text "${text}")
  string(REPLACE "\"" "\\\"" text "${text}")
  string(REPLACE "\n" "\\n\"\n\"" text "${text}")
  string(APPEND enum "\tSCRIPT_${N},\n")
  string(APPEND defs "\t[SCRIPT_${N}] = { \"${n}\", ${nkeys}, ${audited}, \"${decl}\",\n\"${text}\" },\n")
endforeach()
set(h "/* Generated from the Lua files in broker/store/scripts by embed.cmake. Do not edit. */
#ifndef RN_SCRIPTS_H
#define RN_SCRIPTS_H

enum script_id {
${enum}\tSCRIPT_COUNT
};

struct script_def {
\tconst char *name;
\tint nkeys;         /* KEYS the script takes; -1: the caller says how many */
\tint audited;       /* 1: KEYS end with an audit stream (+ sink topics), ARGV with its block */
\tconst char *keys;  /* its declaration, for docs and errors */
\tconst char *source;
};

extern const struct script_def scripts[SCRIPT_COUNT];

#endif
")
set(c "/* Generated from the Lua files in broker/store/scripts by embed.cmake. Do not edit. */
#include \"scripts.h\"

const struct script_def scripts[SCRIPT_COUNT] = {
${defs}};
")
file(WRITE "${OUT_DIR}/scripts.h.tmp" "${h}")
file(WRITE "${OUT_DIR}/scripts.c.tmp" "${c}")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT_DIR}/scripts.h.tmp" "${OUT_DIR}/scripts.h")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT_DIR}/scripts.c.tmp" "${OUT_DIR}/scripts.c")
