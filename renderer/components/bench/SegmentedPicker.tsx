// A small one-of-few switch in a card's tools (PSS or MemAvailable; × fastest or ms): a
// radio group of buttons, the value on `data-<dataName>` and each option's test id
// `<testId>-<option>`, for the e2e tests.

export interface SegmentedPickerProps<T extends string> {
  ariaLabel: string;
  options: readonly T[];
  value: T;
  onChange: (value: T) => void;
  labelOf: (option: T) => string;
  testId: string;
  dataName: string;
}

export function SegmentedPicker<T extends string>({ ariaLabel, options, value, onChange, labelOf, testId, dataName }: SegmentedPickerProps<T>) {
  return (
    <div className="segmented segmented--small" role="radiogroup" aria-label={ariaLabel} data-testid={testId} {...{ [`data-${dataName}`]: value }}>
      {options.map((option) => (
        <button
          key={option}
          type="button"
          role="radio"
          aria-checked={value === option}
          className={value === option ? 'segmented__item segmented__item--on' : 'segmented__item'}
          data-testid={`${testId}-${option}`}
          onClick={() => onChange(option)}
        >
          {labelOf(option)}
        </button>
      ))}
    </div>
  );
}
