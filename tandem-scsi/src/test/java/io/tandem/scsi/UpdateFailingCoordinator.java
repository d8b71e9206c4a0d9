package io.tandem.scsi;

import io.tandem.cluster.ConfigStore;
import io.tandem.cluster.Coordinator;
import io.tandem.cluster.CoordinatorException;
import io.tandem.cluster.LocalCoordinator;
import io.tandem.cluster.LuState;
import io.tandem.cluster.LuStateWatcher;
import io.tandem.cluster.Member;
import io.tandem.cluster.MembershipListener;
import io.tandem.cluster.ServingListener;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;

/**
 * The local coordinator, whose next record update fails the way a clustered coordinator's can
 * (a session lost at that moment, a change not agreed on in time); everything else is the local
 * coordinator's.
 */
final class UpdateFailingCoordinator implements Coordinator {

    private final LocalCoordinator inner = LocalCoordinator.inMemory();
    private volatile boolean serving = true;
    private volatile CoordinatorException nextFailure;
    private volatile boolean loseSessionWithIt;

    /** The next update fails with {@code failure}; with {@code loseSession} the node stops serving first. */
    void failNextUpdate(CoordinatorException failure, boolean loseSession) {
        loseSessionWithIt = loseSession;
        nextFailure = failure;
    }

    void serving(boolean serving) {
        this.serving = serving;
    }

    @Override
    public CompletableFuture<LuState> update(String luId, UnaryOperator<LuState> change) {
        CoordinatorException failure = nextFailure;
        if (failure != null) {
            nextFailure = null;
            if (loseSessionWithIt) {
                serving = false;
            }
            return CompletableFuture.failedFuture(failure);
        }
        return inner.update(luId, change);
    }

    @Override
    public boolean serving() {
        return serving;
    }

    @Override public String nodeId() { return inner.nodeId(); }
    @Override public LuState join(String luId, LuStateWatcher w) { return inner.join(luId, w); }
    @Override public LuState cached(String luId) { return inner.cached(luId); }
    @Override public void leave(String luId) { inner.leave(luId); }
    @Override public void announce(Member self) { inner.announce(self); }
    @Override public List<Member> members() { return inner.members(); }
    @Override public void addMembershipListener(MembershipListener l) { inner.addMembershipListener(l); }
    @Override public void removeMembershipListener(MembershipListener l) { inner.removeMembershipListener(l); }
    @Override public void addServingListener(ServingListener l) { inner.addServingListener(l); }
    @Override public void removeServingListener(ServingListener l) { inner.removeServingListener(l); }
    @Override public ConfigStore config() { return inner.config(); }

    @Override
    public void close() {
        inner.close();
    }
}
