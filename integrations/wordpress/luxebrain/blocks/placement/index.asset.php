<?php
/**
 * The editor script's dependencies (WordPress reads this file beside index.js: no build step).
 *
 * @package LuxeBrain
 */

defined( 'ABSPATH' ) || exit;

return array(
	'dependencies' => array( 'wp-blocks', 'wp-element', 'wp-components', 'wp-block-editor', 'wp-i18n' ),
	'version'      => '0.1.0',
);
