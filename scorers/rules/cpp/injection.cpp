#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void ping(const char *host)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "ping -c 1 %s", host);
    // ruleid: pb.cpp.command-injection
    system(cmd);
    // ruleid: pb.cpp.command-injection
    FILE *p = popen(cmd, "r");
    // ok: pb.cpp.command-injection
    system("uptime");
    pclose(p);
}

void ping_safe(const char *host)
{
    pid_t pid = fork();
    if (pid == 0) {
        // ok: pb.cpp.command-injection
        execlp("ping", "ping", "-c", "1", host, (char *)NULL);
        _exit(127);
    }
}

void shell_c(const char *user)
{
    // ruleid: pb.cpp.command-injection
    execl("/bin/sh", "sh", "-c", user, (char *)NULL);
}

FILE *open_user_file(const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "/var/data/%s", name);
    // ruleid: pb.cpp.path-traversal
    return fopen(path, "r");
}

FILE *open_user_file_checked(const char *name)
{
    char path[512];
    if (strstr(name, "..") != NULL || strchr(name, '/') != NULL)
        return NULL;
    snprintf(path, sizeof(path), "/var/data/%s", name);
    // ok: pb.cpp.path-traversal
    return fopen(path, "r");
}

FILE *open_concat(const char *name)
{
    char path[512] = "/srv/files/";
    strncat(path, name, sizeof(path) - strlen(path) - 1);
    // ruleid: pb.cpp.path-traversal
    return fopen(path, "rb");
}

FILE *open_literal_concat(const char *name)
{
    // ruleid: pb.cpp.path-traversal-literal-concat
    return fopen(strcat("/home/user/data/", name), "r");
}

FILE *open_fixed(void)
{
    // ok: pb.cpp.path-traversal-literal-concat
    return fopen("/etc/app/config.ini", "r");
}

#include <cstdlib>
#include <string>

int qualified_shell(const std::string &dir)
{
    std::string cmd = "tar czf /backups/out.tgz " + dir;
    // ruleid: pb.cpp.command-injection
    int rc = std::system(cmd.c_str());
    // ruleid: pb.cpp.command-injection
    rc += ::system(cmd.c_str());
    // ok: pb.cpp.command-injection
    rc += std::system("sync");
    return rc;
}
