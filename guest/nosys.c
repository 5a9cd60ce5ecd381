/*
 * nosys.c - makes the system calls named on its command line by number
 * (decimal), each with zero arguments, and prints "NR -ERRNO" per call.
 * Freestanding (guest/nolibc.h). Used by test/syscall-table.test.ts to see
 * faultline's warning for unimplemented calls.
 */
#include "nolibc.h"

NOLIBC_START;

static long parse(const char *s) {
    long v = 0;
    for (; *s >= '0' && *s <= '9'; s++) v = v * 10 + (*s - '0');
    return v;
}

int main(int argc, char **argv) {
    for (int k = 1; k < argc; k++) {
        long r = syscall3(parse(argv[k]), 0, 0, 0);
        char line[48];
        u64 pos = 0;
        append_str(line, &pos, argv[k]);
        append_str(line, &pos, " ");
        append_num(line, &pos, r);
        append_str(line, &pos, "\n");
        syscall3(SYS_write, 1, line, pos);
    }
    return 0;
}
