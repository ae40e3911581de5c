#pragma once

#include "ledger.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <unistd.h>

namespace tokenmeter::test_support {

/// A test with a fresh directory of its own, removed afterwards.
class temp_dir_test : public ::testing::Test {
protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("tokenmeter-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  /// The ledger file inside the directory.
  std::string db_path() const { return (dir_ / "ledger.db").string(); }

  std::filesystem::path dir_;
};

/// Runs `read` on the ledger's writer thread once every earlier append is committed and
/// returns its result, rethrowing what it threw. Bounded, so a lost job fails the test.
template <typename T> T after_commit(ledger& book, std::function<T(sqlite3&)> read) {
  auto result = std::make_shared<std::promise<T>>();
  std::future<T> future = result->get_future();
  book.after_commit([result, read](sqlite3& db) {
    try {
      result->set_value(read(db));
    } catch (...) {
      result->set_exception(std::current_exception());
    }
  });
  if (future.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    throw std::runtime_error("the ledger did not run the query within 10 s");
  }
  return future.get();
}

} // namespace tokenmeter::test_support
