// Starting a script as another user. posix_spawn cannot change credentials, so this forks; the
// child runs only async-signal-safe calls between fork and exec, which is why it is C: Swift code
// in a forked child of a threaded process could allocate or take a lock another thread held.
#ifndef SWIFTKEEPALIVED_CPROCESS_SHIM_H
#define SWIFTKEEPALIVED_CPROCESS_SHIM_H

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/// setns(2) into the network namespace `fd` refers to (the C library declares setns only
/// under _GNU_SOURCE). 0, or -1 with errno.
static inline int swiftka_enter_network_namespace(int fd) {
    return (int)syscall(SYS_setns, fd, 0x40000000 /* CLONE_NEWNET */);
}

/// Starts the program at `path` (already searched for in PATH) with `argv` and `envp` as uid:gid, its
/// supplementary groups cleared, its standard streams on /dev/null and every signal reset.
/// Returns the child's pid, or -errno when it could not be started (a failed exec included:
/// the child reports its errno through a close-on-exec pipe, so the call waits only until exec).
static inline pid_t swiftka_spawn_as(const char *path, char *const argv[], char *const envp[], uid_t uid, gid_t gid) {
    int report[2];
    if (pipe(report) != 0) return -errno;
    fcntl(report[0], F_SETFD, FD_CLOEXEC);
    fcntl(report[1], F_SETFD, FD_CLOEXEC);
    pid_t pid = fork();
    if (pid < 0) {
        int code = errno;
        close(report[0]);
        close(report[1]);
        return -code;
    }
    if (pid == 0) {
        close(report[0]);
        int code = 0;
        int null = open("/dev/null", O_RDWR);
        if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0) code = errno;
        if (null > 2) close(null);
        struct sigaction reset;
        reset.sa_handler = SIG_DFL;
        reset.sa_flags = 0;
        sigemptyset(&reset.sa_mask);
        for (int signal = 1; signal < NSIG; signal++) sigaction(signal, &reset, NULL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (code == 0 && setgid(gid) != 0) code = errno;
        if (code == 0 && setgroups(1, &gid) != 0) code = errno;
        if (code == 0 && setuid(uid) != 0) code = errno;
        if (code == 0) {
            execve(path, argv, envp);
            code = errno;
        }
        (void)!write(report[1], &code, sizeof code);
        _exit(127);
    }
    close(report[1]);
    int code = 0;
    ssize_t got;
    do {
        got = read(report[0], &code, sizeof code);
    } while (got < 0 && errno == EINTR);
    close(report[0]);
    if (got == (ssize_t)sizeof code && code != 0) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        return -code;
    }
    return pid;
}

#endif
