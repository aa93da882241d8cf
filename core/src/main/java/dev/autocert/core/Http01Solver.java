package dev.autocert.core;

import static java.util.Objects.requireNonNull;

/** Answers HTTP-01 by putting the key authorization into {@link Http01Tokens}, read by the server's challenge handler. */
final class Http01Solver implements ChallengeSolver {

    private final Http01Tokens tokens;

    Http01Solver(Http01Tokens tokens) {
        this.tokens = requireNonNull(tokens, "tokens");
    }

    @Override
    public ChallengeType type() {
        return ChallengeType.HTTP_01;
    }

    @Override
    public void present(ChallengeData challenge) {
        tokens.put(challenge.token(), challenge.keyAuthorization());
    }

    /** In a cluster, until every node would find the token in storage. */
    @Override
    public void awaitVisible(ChallengeData challenge) throws InterruptedException {
        tokens.awaitShared();
    }

    @Override
    public void cleanUp(ChallengeData challenge) {
        tokens.remove(challenge.token());
    }
}
