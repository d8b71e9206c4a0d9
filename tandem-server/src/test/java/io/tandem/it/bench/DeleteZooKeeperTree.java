package io.tandem.it.bench;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZKUtil;
import org.apache.zookeeper.ZooKeeper;

/**
 * {@code DeleteZooKeeperTree CONNECT PATH}: deletes a znode and everything under it (nothing if it
 * does not exist). {@code scripts/bench-cluster.sh} removes its cluster's subtree from an ensemble it
 * was given with this (ZooKeeper's own shell needs commons-cli, which the Tandem jar does not ship).
 */
public final class DeleteZooKeeperTree {

    private DeleteZooKeeperTree() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2 || !args[1].startsWith("/") || args[1].equals("/")) {
            throw new IllegalArgumentException("usage: DeleteZooKeeperTree HOST:PORT[,...] /PATH (not /)");
        }
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(args[0], 10_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        try {
            if (!connected.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("no connection to ZooKeeper at " + args[0] + " within 30 s");
            }
            try {
                ZKUtil.deleteRecursive(zk, args[1]);
                System.out.println("deleted " + args[1]);
            } catch (KeeperException.NoNodeException e) {
                System.out.println(args[1] + " does not exist");
            }
        } finally {
            zk.close();
        }
    }
}
