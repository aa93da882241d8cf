package dev.autocert.dns;

import static java.util.Objects.requireNonNull;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.shredzone.acme4j.toolbox.JSON;

/**
 * A small real HTTP server on 127.0.0.1 that plays a provider's documented API in a test, in
 * the spirit of OkHttp's MockWebServer: routes answer per method and path, every request is
 * recorded, and anything unrouted is answered 404 and recorded as well, so a test can assert
 * both what a provider sent and that it sent nothing else.
 *
 * <pre>{@code
 * try (FakeApi api = FakeApi.start()) {
 *     api.on("GET", "/zones/([^/]+)/records", r -> FakeApi.Response.json(200, "{\"records\":[]}"));
 *     ... provider with base URL api.url() ...
 *     assertEquals("Bearer t", api.requests("GET", "/zones/.*").get(0).header("Authorization"));
 * }
 * }</pre>
 *
 * <p>Routes are regular expressions matched against the whole decoded path (the query is not
 * part of it); the groups are handed to the handler. A route added later wins over an earlier
 * one that also matches, so a test can override one answer (an error, say) on top of a whole
 * fake API. A handler that throws answers 500 and is recorded in {@link #failures()}.
 * Thread-safe: handlers run on a small pool, so they must guard shared state themselves.
 */
final class FakeApi implements AutoCloseable {

    private final HttpServer server;
    private final ExecutorService executor;
    private final List<Route> routes = new CopyOnWriteArrayList<>();
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final List<Throwable> failures = new CopyOnWriteArrayList<>();

    private FakeApi(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /** Starts a server on a free port of 127.0.0.1 with no routes. */
    static FakeApi start() throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        ExecutorService executor = Executors.newFixedThreadPool(8, r -> {
            Thread t = new Thread(r, "fake-api");
            t.setDaemon(true);
            return t;
        });
        FakeApi api = new FakeApi(server, executor);
        server.createContext("/", api::handle);
        server.setExecutor(executor);
        server.start();
        return api;
    }

    /** {@return the server's base URL, {@code http://127.0.0.1:PORT}, without a final slash} */
    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /**
     * Answers {@code method} requests whose whole decoded path matches {@code pathRegex}.
     *
     * @return this, to chain routes
     */
    FakeApi on(String method, String pathRegex, Handler handler) {
        routes.add(0, new Route(method.toUpperCase(Locale.ROOT), Pattern.compile(pathRegex), requireNonNull(handler, "handler")));
        return this;
    }

    /**
     * Routes of this API that answer only the requests that pass {@code check}, as an API checks
     * credentials; the others are answered {@code refusal}.
     */
    Guarded guarded(Predicate<Request> check, Response refusal) {
        return new Guarded(this, requireNonNull(check, "check"), requireNonNull(refusal, "refusal"));
    }

    /** Routes that answer only the requests that pass a check: see {@link #guarded}. */
    record Guarded(FakeApi api, Predicate<Request> check, Response refusal) {

        /** As {@link FakeApi#on}, for requests that pass the check. {@return this, to chain routes} */
        Guarded on(String method, String pathRegex, Handler handler) {
            api.on(method, pathRegex, r -> check.test(r) ? handler.handle(r) : refusal);
            return this;
        }
    }

    /** {@return every request received so far, in order} */
    List<Request> requests() {
        return List.copyOf(requests);
    }

    /** {@return the requests with {@code method} whose decoded path matches {@code pathRegex}, in order} */
    List<Request> requests(String method, String pathRegex) {
        Pattern pattern = Pattern.compile(pathRegex);
        return requests.stream().filter(r -> r.method().equalsIgnoreCase(method) && pattern.matcher(r.path()).matches()).toList();
    }

    /** {@return the requests no route matched} */
    List<Request> unrouted() {
        return requests.stream().filter(r -> !r.routed()).toList();
    }

    /** {@return what handlers threw (answered 500)} */
    List<Throwable> failures() {
        return List.copyOf(failures);
    }

    /** Forgets the requests received so far (the routes stay). */
    void clearRequests() {
        requests.clear();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            answer(exchange);
        } catch (RuntimeException | IOException e) {
            failures.add(e); // a fault of the fake itself: the client sees the connection close
            throw e;
        }
    }

    private void answer(HttpExchange exchange) throws IOException {
        String body;
        try (InputStream in = exchange.getRequestBody()) {
            body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Map<String, List<String>> headers = new LinkedHashMap<>();
        exchange.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), List.copyOf(v)));
        String method = exchange.getRequestMethod().toUpperCase(Locale.ROOT);
        String path = exchange.getRequestURI().getPath();
        String query = exchange.getRequestURI().getRawQuery();
        Response response = null;
        Request request = null;
        for (Route route : routes) {
            Matcher m = route.pattern().matcher(path);
            if (route.method().equals(method) && m.matches()) {
                List<String> groups = new ArrayList<>();
                for (int i = 1; i <= m.groupCount(); i++) {
                    groups.add(m.group(i));
                }
                // an optional group that did not take part is null, which List.copyOf refuses
                request = new Request(method, path, query, headers, body, Collections.unmodifiableList(groups), true);
                requests.add(request);
                try {
                    response = route.handler().handle(request);
                } catch (Throwable e) {
                    failures.add(e);
                    StringWriter trace = new StringWriter();
                    e.printStackTrace(new PrintWriter(trace));
                    response = Response.text(500, "FakeApi handler failed: " + trace);
                }
                break;
            }
        }
        if (request == null) {
            requests.add(new Request(method, path, query, headers, body, List.of(), false));
            response = Response.text(404, "FakeApi: no route for " + method + " " + path);
        }
        byte[] bytes = response.body() == null ? new byte[0] : response.body().getBytes(StandardCharsets.UTF_8);
        response.headers().forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
        boolean noBody = bytes.length == 0 || response.status() == 204 || response.status() == 304 || method.equals("HEAD");
        exchange.sendResponseHeaders(response.status(), noBody ? -1 : bytes.length);
        if (!noBody) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    /** Answers one routed request. */
    @FunctionalInterface
    interface Handler {
        Response handle(Request request) throws Exception;
    }

    /**
     * One request as the server received it.
     *
     * @param path    the decoded path, without the query
     * @param query   the raw query, or null
     * @param headers header names in lower case
     * @param groups  the route's regular expression groups
     * @param routed  whether a route answered it
     */
    record Request(String method, String path, String query, Map<String, List<String>> headers, String body, List<String> groups,
            boolean routed) {

        /** {@return the first value of header {@code name} (any case), or null} */
        String header(String name) {
            List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
            return values == null || values.isEmpty() ? null : values.get(0);
        }

        /** {@return the decoded value of query parameter {@code name}, if given} */
        Optional<String> param(String name) {
            if (query == null) {
                return Optional.empty();
            }
            for (String pair : query.split("&")) {
                int eq = pair.indexOf('=');
                String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                if (key.equals(name)) {
                    return Optional.of(eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
                }
            }
            return Optional.empty();
        }

        /** {@return the query parameter {@code name} as a number, or {@code otherwise}} */
        int intParam(String name, int otherwise) {
            return param(name).map(Integer::parseInt).orElse(otherwise);
        }

        /** {@return route group {@code i}, counted from 1 as in {@link Matcher#group(int)}; null when an optional group did not match} */
        String group(int i) {
            return groups.get(i - 1);
        }

        /** {@return the body as a JSON object} */
        JSON json() {
            return JSON.parse(body);
        }
    }

    /** An answer: status, body and headers. */
    record Response(int status, String body, Map<String, String> headers) {

        Response {
            headers = Map.copyOf(headers);
        }

        /** A JSON answer. */
        static Response json(int status, String json) {
            return new Response(status, json, Map.of("Content-Type", "application/json"));
        }

        /** A JSON answer of a map or list, as acme4j's JSONBuilder would write it. */
        static Response json(int status, Object value) {
            return json(status, toJson(value));
        }

        /** A plain-text answer. */
        static Response text(int status, String text) {
            return new Response(status, text, Map.of("Content-Type", "text/plain; charset=utf-8"));
        }

        /** An answer without a body, such as 204. */
        static Response empty(int status) {
            return new Response(status, "", Map.of());
        }

        /** This answer with one more header. */
        Response withHeader(String name, String value) {
            Map<String, String> more = new LinkedHashMap<>(headers);
            more.put(name, value);
            return new Response(status, body, more);
        }
    }

    /** JSON text of maps, lists, strings, numbers, booleans and nulls: for fakes that keep their state as plain collections. */
    static String toJson(Object value) {
        if (value == null) {
            return "null";
        }
        if (value instanceof String s) {
            StringBuilder sb = new StringBuilder("\"");
            for (char c : s.toCharArray()) {
                switch (c) {
                    case '"' -> sb.append("\\\"");
                    case '\\' -> sb.append("\\\\");
                    case '\n' -> sb.append("\\n");
                    case '\r' -> sb.append("\\r");
                    case '\t' -> sb.append("\\t");
                    default -> {
                        if (c < 0x20) {
                            sb.append(String.format("\\u%04x", (int) c));
                        } else {
                            sb.append(c);
                        }
                    }
                }
            }
            return sb.append('"').toString();
        }
        if (value instanceof Number || value instanceof Boolean) {
            return value.toString();
        }
        if (value instanceof Map<?, ?> map) {
            StringBuilder sb = new StringBuilder("{");
            map.forEach((k, v) -> {
                if (sb.length() > 1) {
                    sb.append(',');
                }
                sb.append(toJson(String.valueOf(k))).append(':').append(toJson(v));
            });
            return sb.append('}').toString();
        }
        if (value instanceof Iterable<?> list) {
            StringBuilder sb = new StringBuilder("[");
            for (Object v : list) {
                if (sb.length() > 1) {
                    sb.append(',');
                }
                sb.append(toJson(v));
            }
            return sb.append(']').toString();
        }
        throw new IllegalArgumentException("not JSON: " + value.getClass());
    }

    private record Route(String method, Pattern pattern, Handler handler) {
    }
}
