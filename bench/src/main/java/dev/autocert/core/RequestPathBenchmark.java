package dev.autocert.core;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What the challenge handlers add to a request: for an ordinary request one prefix test, for a
 * challenge request a pattern match and a map read. In {@code dev.autocert.core} to open tokens
 * as the HTTP-01 solver does.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class RequestPathBenchmark {

    private static final String TOKEN = "LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0";

    private final Http01Tokens tokens = new Http01Tokens();
    private String ordinaryPath;
    private String challengePath;
    private String unknownTokenPath;

    @Setup
    public void openChallenges() {
        for (int i = 0; i < 10; i++) {
            tokens.put(TOKEN.substring(0, 40) + "00" + i, "key-authorization-" + i);
        }
        tokens.put(TOKEN, TOKEN + ".thumbprint");
        ordinaryPath = "/api/v1/orders/12345/items";
        challengePath = Http01Tokens.PATH_PREFIX + TOKEN;
        unknownTokenPath = Http01Tokens.PATH_PREFIX + "x" + TOKEN.substring(1);
    }

    /** The whole cost an ordinary request pays: the handler's first test. */
    @Benchmark
    public boolean ordinaryRequest() {
        return Http01Tokens.isChallengePath(ordinaryPath);
    }

    /** A CA's validation request for an open challenge. */
    @Benchmark
    public Object challengeRequest() {
        return tokens.respond(challengePath);
    }

    /** A probe for a token that is not open: the 404 path. */
    @Benchmark
    public Object unknownTokenRequest() {
        return tokens.respond(unknownTokenPath);
    }
}
