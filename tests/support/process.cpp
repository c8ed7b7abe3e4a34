#include "process.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace veter::test {

namespace {
std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string temp_file(const char* tag) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (std::string("veter-") + tag + "-XXXXXX")).string();
  const int fd = mkstemp(tmpl.data());
  if (fd < 0) {
    throw std::runtime_error("mkstemp failed");
  }
  close(fd);
  return tmpl;
}

int decode_status(int st) {
  if (WIFEXITED(st)) {
    return WEXITSTATUS(st);
  }
  if (WIFSIGNALED(st)) {
    return 128 + WTERMSIG(st);
  }
  return -1;
}
}  // namespace

Process::Process(std::vector<std::string> argv, std::vector<std::string> env)
    : out_path_(temp_file("out")), err_path_(temp_file("err")) {
  std::vector<std::string> envs;
  for (char** e = environ; *e != nullptr; ++e) {
    envs.emplace_back(*e);
  }
  for (auto& e : env) {
    envs.push_back(e);
  }
  std::vector<char*> cargv;
  for (auto& a : argv) {
    cargv.push_back(a.data());
  }
  cargv.push_back(nullptr);
  std::vector<char*> cenv;
  for (auto& e : envs) {
    cenv.push_back(e.data());
  }
  cenv.push_back(nullptr);
  const int out_fd = open(out_path_.c_str(), O_WRONLY | O_TRUNC);
  const int err_fd = open(err_path_.c_str(), O_WRONLY | O_TRUNC);
  pid_ = fork();
  if (pid_ < 0) {
    throw std::runtime_error("fork failed");
  }
  if (pid_ == 0) {
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    const int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    setpgid(0, 0);
    execve(cargv[0], cargv.data(), cenv.data());
    _exit(127);
  }
  close(out_fd);
  close(err_fd);
}

Process::Process(Process&& o) noexcept
    : pid_(o.pid_), status_(o.status_), out_path_(std::move(o.out_path_)), err_path_(std::move(o.err_path_)) {
  o.pid_ = -1;
}

Process::~Process() {
  if (pid_ > 0 && !status_) {
    stop(std::chrono::milliseconds(2000));
  }
  if (!out_path_.empty()) {
    std::remove(out_path_.c_str());
    std::remove(err_path_.c_str());
  }
}

void Process::signal(int sig) const {
  if (pid_ > 0 && !status_) {
    kill(pid_, sig);
  }
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
  if (status_) {
    return status_;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int st = 0;
    const pid_t r = waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      status_ = decode_status(st);
      return status_;
    }
    if (r < 0 && errno != EINTR) {
      status_ = -1;
      return status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

int Process::stop(std::chrono::milliseconds grace) {
  if (status_) {
    return *status_;
  }
  signal(SIGTERM);
  if (auto s = wait(grace)) {
    return *s;
  }
  kill(pid_, SIGKILL);
  return wait(std::chrono::milliseconds(5000)).value_or(-1);
}

bool Process::running() { return !wait(std::chrono::milliseconds(0)).has_value(); }

std::string Process::out() const { return read_file(out_path_); }
std::string Process::err() const { return read_file(err_path_); }

bool Process::wait_for_output(const std::string& text, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (err().find(text) != std::string::npos || out().find(text) != std::string::npos) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::string read_text_file(const std::string& path) { return read_file(path); }

RunResult run_command(std::vector<std::string> argv, std::chrono::milliseconds timeout,
                      std::vector<std::string> env) {
  Process p(std::move(argv), std::move(env));
  RunResult r;
  auto st = p.wait(timeout);
  r.status = st ? *st : p.stop();
  r.out = p.out();
  r.err = p.err();
  return r;
}

namespace {
int bind_port(int type, int port) {
  const int fd = socket(AF_INET, type, 0);
  if (fd < 0) {
    return -1;
  }
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    close(fd);
    return -1;
  }
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}
}  // namespace

int free_tcp_port() { return bind_port(SOCK_STREAM, 0); }

int free_udp_port(bool pair) {
  for (int attempt = 0; attempt < 200; ++attempt) {
    int p = bind_port(SOCK_DGRAM, 0);
    if (!pair) {
      return p;
    }
    p &= ~1;
    if (p > 1024 && p < 65534 && bind_port(SOCK_DGRAM, p) == p && bind_port(SOCK_DGRAM, p + 1) == p + 1 &&
        bind_port(SOCK_STREAM, p) == p) {
      return p;
    }
  }
  throw std::runtime_error("no free UDP port pair");
}

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "veter-test-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& name, const std::string& content) const {
  const auto p = path_ + "/" + name;
  std::ofstream(p) << content;
  return p;
}

}  // namespace veter::test
