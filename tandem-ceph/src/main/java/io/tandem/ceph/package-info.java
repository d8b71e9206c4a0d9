/**
 * librados and librbd (Debian {@code librados2}, {@code librbd1}) through the JDK's foreign function
 * API: connections, I/O contexts, guarded write operations, watch/notify, blocklisting, images and
 * asynchronous image I/O. A binding only: the rbd block device lives in {@code tandem-storage}, the
 * rados coordinator in {@code tandem-cluster}.
 */
package io.tandem.ceph;
