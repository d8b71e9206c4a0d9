package io.tandem.it.initiator;

public enum DataDirection { NONE, READ, WRITE }
