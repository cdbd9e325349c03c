"""Storage: the RecordStore and BlobStore ports, their adapters, and the URI registry."""

from modelyard.storage.blobs import BlobRef, BlobStore, ContentStore
from modelyard.storage.keys import validate_blob_key, validate_name, validate_record_key
from modelyard.storage.records import Check, Delete, Put, Record, RecordStore, Write
from modelyard.storage.uri import open_blob_store, open_record_store

__all__ = [
    "BlobRef",
    "BlobStore",
    "Check",
    "ContentStore",
    "Delete",
    "Put",
    "Record",
    "RecordStore",
    "Write",
    "open_blob_store",
    "open_record_store",
    "validate_blob_key",
    "validate_name",
    "validate_record_key",
]
