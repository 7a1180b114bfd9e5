// The shared UI kit; pages import from here.
export { AppLayout, type NavPage } from './Layout.js';
export { Page, type PageProps } from './Page.js';
export { Panel, Card, Facts, type PanelProps } from './Panel.js';
export { StatusBadge, Badge, STATE_LABELS, type Tone } from './StatusBadge.js';
export { ErrorMessage, errorText } from './ErrorMessage.js';
export { Field, CheckboxField, type FieldProps, type FieldControlProps } from './Field.js';
export { ConfirmButton, type ConfirmButtonProps } from './ConfirmButton.js';
export { EmptyState } from './EmptyState.js';
export { SubaccountPicker } from './SubaccountPicker.js';
export { SelectedSubaccountProvider, useSelectedSubaccount, type SelectedSubaccount } from './selected-subaccount.js';
export { useSubaccounts, useLiveSubaccountUpdates, applySubaccountEvent, overallState, type OverallState } from './live-subaccounts.js';
export { useNow } from './use-now.js';
export { VirtualTable, type VirtualTableProps, type AnyColumn } from './VirtualTable.js';
export { useLiveWindow, LiveBuffer, type LiveWindow, type LiveView, type LiveWindowOptions } from './live-window.js';
