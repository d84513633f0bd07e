<?php
/**
 * WordPress-like lab stub for wp-includes/functions.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'functions.php';

function validate_file( ...$args ) {
	return 0;
}
