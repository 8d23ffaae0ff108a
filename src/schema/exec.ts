// Placeholder: mutations of this domain are being written.
export {};
