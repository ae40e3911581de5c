// libFuzzer target for the config file: whatever YAML an operator (or a broken deploy) writes,
// loading and validating it either succeeds or throws config_error with a message; no other
// exception escapes, nothing crashes, leaks or hangs. The input is the file's text.

#include "config.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <exception>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

/// An in-memory file holding the input, reachable by path for load_config_file.
class memory_file {
public:
  memory_file(const std::uint8_t* data, std::size_t size) : fd_(memfd_create("tokenmeter-config", 0)) {
    require(fd_ >= 0);
    std::size_t written = 0;
    while (written < size) {
      const auto n = ::write(fd_, data + written, size - written);
      require(n > 0);
      written += static_cast<std::size_t>(n);
    }
  }
  ~memory_file() { ::close(fd_); }
  memory_file(const memory_file&) = delete;
  memory_file& operator=(const memory_file&) = delete;
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

private:
  int fd_;
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 64 * 1024) return 0;
  const memory_file file(data, size);
  tokenmeter::config cfg;
  try {
    tokenmeter::load_config_file(file.path(), cfg);
    tokenmeter::validate(cfg);
  } catch (const tokenmeter::config_error& e) {
    require(e.what()[0] != '\0');
  } catch (const std::exception& e) {
    // Anything but config_error reaches main() as an unexplained failure.
    std::fprintf(stderr, "request_config_fuzz: escaped exception: %s\n", e.what());
    std::abort();
  } catch (...) {
    std::abort();
  }
  return 0;
}
