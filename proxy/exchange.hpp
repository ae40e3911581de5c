#pragma once

#include "attribution.hpp"
#include "exchange_record.hpp"
#include "http_stream.hpp"
#include "services.hpp"
#include "upstream_connection.hpp"
#include "usage_chunk_filter.hpp"
#include "usage_tap.hpp"
#include "wire_format.hpp"

#include <boost/beast/http.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

namespace tokenmeter {

namespace http = boost::beast::http;

/// What the agent connection does once an exchange is over.
struct exchange_outcome {
  bool keep_alive = false; ///< the agent connection can take its next request
};

/// One request relayed to an upstream and its answer relayed back: write the request,
/// read the response header, then read and forward the body piece by piece over one
/// fixed buffer, teeing each piece to the usage tap. The exchange is recorded before
/// its last bytes are written, so /usage reflects it as soon as the agent has it.
/// Runs on the agent connection's thread, like the streams it borrows.
class exchange : public std::enable_shared_from_this<exchange> {
public:
  using done_handler = std::function<void(exchange_outcome)>;

  struct context {
    request_tags tags;
    std::string path;        ///< the agent's path, without the query
    api_schema schema = api_schema::openai_chat;
    bool agent_keep_alive = true;
    unsigned agent_version = 11;
    bool head_request = false;
    /// tokenmeter added stream_options.include_usage: the usage-only chunk is not the agent's.
    bool strip_usage_chunk = false;
    std::chrono::steady_clock::time_point started;
    std::int64_t started_unix_ms = 0;
  };

  exchange(http_stream& agent, std::shared_ptr<upstream_connection> upstream, context ctx,
           services& svc, done_handler done);

  /// Connects if needed, then runs the exchange; `done` is called exactly once.
  void start(http::request<http::string_body> upstream_request);

private:
  void on_connect(boost::system::error_code ec, std::string_view step);
  void do_write_request();
  void on_write_request(boost::system::error_code ec);
  void do_read_header();
  void on_read_header(boost::system::error_code ec);
  void on_write_header(boost::system::error_code ec);
  /// Writes, in one gather write, whatever is left of the head, then `piece` framed for the agent.
  template <class Handler> void write_to_agent(std::string_view piece, bool last, Handler&& handler);
  void do_read_body();
  /// Moves body bytes the upstream buffer already holds into the relay buffer, no read.
  void take_buffered_body();
  void on_read_body(boost::system::error_code ec);
  void do_write_body(std::string_view piece, bool last);
  void on_write_body(boost::system::error_code ec, bool last);
  void on_agent_gone(boost::system::error_code ec);

  void fail_before_response(boost::system::error_code ec, std::string_view kind);
  void fail_mid_body(boost::system::error_code ec, std::string_view kind);
  /// Logs and counts an upstream failure, and drops the connection.
  void note_upstream_error(boost::system::error_code ec, std::string_view kind);
  void record(int status, std::string_view error, std::string_view note = {});
  void finish(bool keep_alive);

  static constexpr std::size_t relay_buffer_size = 16 * 1024;
  /// Room for a typical serialized head in one allocation, instead of several as it grows.
  static constexpr std::size_t head_reserve = 1024;
  /// Bounds the parse of already-buffered body elements (chunk headers, data) per relay step.
  static constexpr int max_buffered_elements = 256;

  http_stream& agent_;
  std::shared_ptr<upstream_connection> upstream_;
  context ctx_;
  services& svc_;
  done_handler done_;

  http::request<http::string_body> request_;
  std::string request_body_; ///< the body sent upstream, for an estimate if no usage arrives
  std::string request_head_; ///< the serialized head of request_, sent with its body
  std::optional<http::response_parser<http::buffer_body>> parser_;
  http::response<http::empty_body> response_; ///< the head the agent gets
  std::string response_head_;                 ///< response_ serialized, until it is sent
  bool head_sent_ = false;
  bool chunked_ = false; ///< the agent's body is chunk-framed
  chunk_size_line chunk_line_;
  std::optional<usage_tap> tap_;
  std::optional<usage_chunk_filter> filter_; ///< only while hiding an injected usage chunk
  std::string filtered_;                     ///< what the filter lets through for the current piece
  std::unique_ptr<char[]> buffer_;
  std::optional<std::chrono::steady_clock::time_point> first_byte_;
  std::optional<std::chrono::steady_clock::time_point> first_body_byte_;
  bool counted_open_stream_ = false; ///< tokenmeter_open_streams was raised for this answer
  bool agent_gone_ = false;   ///< the agent stopped reading; the upstream is drained for its usage
  bool recorded_ = false;
  std::uint64_t drained_bytes_ = 0;
  std::chrono::steady_clock::time_point drain_deadline_; ///< set when the agent went away
};

} // namespace tokenmeter
