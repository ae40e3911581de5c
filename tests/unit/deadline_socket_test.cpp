#include "deadline_socket.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <optional>
#include <string>

namespace tokenmeter {
namespace {

namespace net = boost::asio;
using net::ip::tcp;
using namespace std::chrono_literals;

/// A connected loopback pair: `ours` is the deadline_socket under test, `peer` a plain socket.
class DeadlineSocket : public ::testing::Test {
protected:
  DeadlineSocket() {
    tcp::acceptor acceptor(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    peer.connect(acceptor.local_endpoint());
    ours.emplace(acceptor.accept());
  }

  /// Starts a read on `ours`; its outcome lands in read_result.
  void start_read() {
    ours->async_read_some(net::buffer(read_buffer), [this](boost::system::error_code ec, std::size_t n) {
      read_result = ec;
      read_bytes = n;
      finished_at = std::chrono::steady_clock::now();
    });
  }

  /// Runs the loop until the read completed, for at most five seconds.
  void run_until_read() {
    for (int i = 0; i < 500 && !read_result; ++i) io.run_for(10ms);
  }

  net::io_context io;
  tcp::socket peer{io};
  std::optional<deadline_socket> ours;
  std::array<char, 64> read_buffer{};
  std::optional<boost::system::error_code> read_result;
  std::size_t read_bytes = 0;
  std::chrono::steady_clock::time_point finished_at;
};

TEST_F(DeadlineSocket, APendingReadTimesOutAtTheDeadline) {
  const auto start = std::chrono::steady_clock::now();
  ours->expires_after(100ms);
  start_read();
  run_until_read();
  ASSERT_TRUE(read_result);
  EXPECT_EQ(*read_result, boost::beast::error::timeout);
  EXPECT_GE(finished_at - start, 100ms);
  EXPECT_FALSE(ours->socket().is_open());
}

TEST_F(DeadlineSocket, AReadThatCompletesInTimeIsNotTouched) {
  ours->expires_after(2s);
  start_read();
  net::write(peer, net::buffer(std::string("hello")));
  run_until_read();
  ASSERT_TRUE(read_result);
  EXPECT_FALSE(*read_result);
  EXPECT_EQ(read_bytes, 5u);
  EXPECT_TRUE(ours->socket().is_open());
}

TEST_F(DeadlineSocket, ALaterDeadlineSetDuringAReadKeepsItAlive) {
  ours->expires_after(50ms);
  start_read();
  ours->expires_after(3s);
  net::steady_timer send_later(io, 200ms);
  send_later.async_wait([this](boost::system::error_code) { net::write(peer, net::buffer(std::string("late"))); });
  run_until_read();
  ASSERT_TRUE(read_result);
  EXPECT_FALSE(*read_result);
  EXPECT_EQ(read_bytes, 4u);
}

TEST_F(DeadlineSocket, AnEarlierDeadlineSetDuringAReadCutsItShort) {
  const auto start = std::chrono::steady_clock::now();
  ours->expires_after(30s);
  start_read();
  ours->expires_after(100ms);
  run_until_read();
  ASSERT_TRUE(read_result);
  EXPECT_EQ(*read_result, boost::beast::error::timeout);
  // Well before the one-second tick the 30 s deadline armed.
  EXPECT_LT(finished_at - start, 900ms);
}

TEST_F(DeadlineSocket, ADeadlineMoreThanATickAwayIsStillKept) {
  const auto start = std::chrono::steady_clock::now();
  ours->expires_after(1500ms);
  start_read();
  run_until_read();
  ASSERT_TRUE(read_result);
  EXPECT_EQ(*read_result, boost::beast::error::timeout);
  EXPECT_GE(finished_at - start, 1500ms);
}

TEST_F(DeadlineSocket, AReadStartedAfterItsDeadlineTimesOutAtOnce) {
  ours->expires_after(1ms);
  net::steady_timer wait(io, 20ms);
  wait.async_wait([this](boost::system::error_code) { start_read(); });
  run_until_read();
  ASSERT_TRUE(read_result);
  EXPECT_EQ(*read_result, boost::beast::error::timeout);
}

TEST_F(DeadlineSocket, NoDeadlineLetsAReadWait) {
  ours->expires_after(50ms);
  ours->expires_never();
  start_read();
  io.run_for(300ms);
  EXPECT_FALSE(read_result);
  net::write(peer, net::buffer(std::string("x")));
  run_until_read();
  ASSERT_TRUE(read_result);
  EXPECT_FALSE(*read_result);
}

TEST_F(DeadlineSocket, AWriteToAPeerThatStopsReadingTimesOut) {
  // The peer reads nothing, so the kernel buffers fill and the write stays pending.
  const std::string big(64 << 20, 'x');
  std::optional<boost::system::error_code> write_result;
  ours->expires_after(300ms);
  net::async_write(*ours, net::buffer(big),
                   [&](boost::system::error_code ec, std::size_t) { write_result = ec; });
  for (int i = 0; i < 500 && !write_result; ++i) io.run_for(10ms);
  ASSERT_TRUE(write_result);
  EXPECT_EQ(*write_result, boost::beast::error::timeout);
}

TEST_F(DeadlineSocket, CancelAbortsAPendingRead) {
  ours->expires_after(5s);
  start_read();
  ours->cancel();
  run_until_read();
  ASSERT_TRUE(read_result);
  EXPECT_EQ(*read_result, net::error::operation_aborted);
}

} // namespace
} // namespace tokenmeter
