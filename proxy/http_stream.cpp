#include "http_stream.hpp"

namespace tokenmeter {

namespace {

using stream_variant = std::variant<http_stream::plain_stream, http_stream::tls_stream>;

template <class Arg> stream_variant make_stream(Arg&& arg, boost::asio::ssl::context* tls) {
  if (tls) return stream_variant(std::in_place_index<1>, std::forward<Arg>(arg), *tls);
  return stream_variant(std::in_place_index<0>, std::forward<Arg>(arg));
}

} // namespace

http_stream::http_stream(boost::asio::ip::tcp::socket&& socket, boost::asio::ssl::context* tls)
    : stream_(make_stream(std::move(socket), tls)) {}

http_stream::http_stream(boost::asio::any_io_executor executor, boost::asio::ssl::context* tls)
    : stream_(make_stream(std::move(executor), tls)) {}

deadline_socket& http_stream::tcp() noexcept {
  return visit([](auto& stream) -> deadline_socket& { return beast::get_lowest_layer(stream); });
}

void http_stream::close() noexcept {
  boost::system::error_code ec;
  auto& socket = tcp().socket();
  socket.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
  socket.close(ec);
}

} // namespace tokenmeter
