/*
 * Calls of a return-probed function around what invalidates an entry the
 * engine holds (test/kprobes-return-engine.test.ts): `f` keeps a value
 * across a call, so at -O1 (and -fcf-protection=none: no endbr64) it starts
 * with a push of a callee-saved register, which the engine emulates when it
 * takes f's entries itself (engine patch 0011). Every call's value is printed, so the
 * native run says how many calls there were and what each returned.
 *   loop N    N calls
 *   remap N   N times: two calls, then an mmap and munmap (the address space's areas change)
 *   fork N    N calls, fork; the child makes N calls and exits; the parent waits and makes N more
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

volatile long sink;

__attribute__((noinline)) long g(long x)
{
    sink += x;
    return x;
}

__attribute__((noinline)) long f(long x)
{
    long y = g(x);
    return y * 3 + g(1) + x;
}

static void calls(const char *who, long from, long n)
{
    for (long i = from; i < from + n; i++) printf("%s f(%ld)=%ld\n", who, i, f(i));
}

int main(int argc, char **argv)
{
    if (argc < 3) return 2;
    long n = atol(argv[2]);
    if (strcmp(argv[1], "loop") == 0) {
        calls("main", 0, n);
    } else if (strcmp(argv[1], "remap") == 0) {
        for (long i = 0; i < n; i++) {
            calls("main", 2 * i, 2);
            void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED || munmap(p, 4096) != 0) return 3;
        }
    } else if (strcmp(argv[1], "fork") == 0) {
        calls("parent", 0, n);
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) return 4;
        if (pid == 0) {
            calls("child", n, n);
            fflush(stdout);
            _exit(0);
        }
        int st;
        if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return 5;
        calls("parent", 2 * n, n);
    } else {
        return 2;
    }
    return 0;
}
