#include "DistributedLauncher.h"

#include "base/Error.h"

#include <arpa/inet.h>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace diffseg::app {

namespace {

using core::Error;
using core::ErrorKind;

// A port the kernel says is free now (bound to port 0, then released). Another program could
// take it before rank 0 listens; torchrun has the same window.
int freePort()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        throw Error(ErrorKind::Io, "socket", std::strerror(errno));
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t size = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size) != 0) {
        const std::string problem = std::strerror(errno);
        ::close(fd);
        throw Error(ErrorKind::Io, "127.0.0.1", "no free port for the ranks: " + problem);
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

pid_t startRank(int rank, int ranks, int port, const std::vector<std::string>& arguments)
{
    const pid_t pid = ::fork();
    if (pid < 0) {
        throw Error(ErrorKind::Io, "fork", std::strerror(errno));
    }
    if (pid > 0) {
        return pid;
    }
    // The child: its own process group, so that a Ctrl+C on the terminal reaches the launcher
    // alone, which passes one SIGTERM on (a second signal would end a rank before it saves).
    ::setpgid(0, 0);
    ::setenv("RANK", std::to_string(rank).c_str(), 1);
    ::setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
    ::setenv("WORLD_SIZE", std::to_string(ranks).c_str(), 1);
    ::setenv("LOCAL_WORLD_SIZE", std::to_string(ranks).c_str(), 1);
    ::setenv("MASTER_ADDR", "127.0.0.1", 1);
    ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
    if (rank != 0) {
        const int null = ::open("/dev/null", O_WRONLY);
        if (null >= 0) {
            ::dup2(null, STDOUT_FILENO);
        }
    }
    std::vector<char*> argv;
    std::string self = "diffseg";
    argv.push_back(self.data());
    std::vector<std::string> copy = arguments;
    for (std::string& a : copy) {
        argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    ::execv("/proc/self/exe", argv.data());
    std::fprintf(stderr, "diffseg: rank %d could not start: %s\n", rank, std::strerror(errno));
    ::_exit(127);
}

int exitCodeOf(int status)
{
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    return 1; // killed by a signal
}

} // namespace

std::vector<std::string> argumentsWithoutNproc()
{
    std::ifstream in("/proc/self/cmdline", std::ios::binary);
    const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::string> args;
    std::size_t start = 0;
    while (start < all.size()) {
        const std::size_t end = all.find('\0', start);
        args.push_back(all.substr(start, end - start));
        start = end == std::string::npos ? all.size() : end + 1;
    }
    std::vector<std::string> out;
    for (std::size_t i = 1; i < args.size(); ++i) {
        if (args[i] == "--nproc") {
            ++i; // and its value
            continue;
        }
        if (args[i].rfind("--nproc=", 0) == 0) {
            continue;
        }
        out.push_back(args[i]);
    }
    return out;
}

int runLocalRanks(int ranks, const std::vector<std::string>& arguments,
                  const core::CancelToken& cancel, int graceSeconds)
{
    const int port = freePort();
    std::vector<pid_t> pids;
    for (int r = 0; r < ranks; ++r) {
        try {
            pids.push_back(startRank(r, ranks, port, arguments));
        } catch (const Error&) {
            for (const pid_t p : pids) {
                ::kill(p, SIGKILL);
                ::waitpid(p, nullptr, 0);
            }
            throw;
        }
    }
    std::vector<int> codes(static_cast<std::size_t>(ranks), -1);
    int running = ranks;
    int firstFailure = 0;
    bool forwarded = false;
    std::chrono::steady_clock::time_point stopping{};
    bool killed = false;
    while (running > 0) {
        int status = 0;
        const pid_t done = ::waitpid(-1, &status, WNOHANG);
        if (done > 0) {
            for (int r = 0; r < ranks; ++r) {
                if (pids[static_cast<std::size_t>(r)] == done) {
                    codes[static_cast<std::size_t>(r)] = exitCodeOf(status);
                    --running;
                    const int code = codes[static_cast<std::size_t>(r)];
                    if (code != 0 && firstFailure == 0 && !cancel.isCancelled()) {
                        firstFailure = code;
                        std::fprintf(stderr,
                                     "diffseg: rank %d ended with status %d; stopping the other "
                                     "ranks\n",
                                     r, code);
                    }
                }
            }
            continue;
        }
        const bool stop = cancel.isCancelled() || firstFailure != 0;
        if (stop && !forwarded) {
            for (int r = 0; r < ranks; ++r) {
                if (codes[static_cast<std::size_t>(r)] < 0) {
                    ::kill(pids[static_cast<std::size_t>(r)], SIGTERM);
                }
            }
            forwarded = true;
            stopping = std::chrono::steady_clock::now();
        }
        if (forwarded && !killed &&
            std::chrono::steady_clock::now() - stopping > std::chrono::seconds(graceSeconds)) {
            for (int r = 0; r < ranks; ++r) {
                if (codes[static_cast<std::size_t>(r)] < 0) {
                    ::kill(pids[static_cast<std::size_t>(r)], SIGKILL);
                }
            }
            killed = true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return firstFailure != 0 ? firstFailure : codes.front();
}

} // namespace diffseg::app
