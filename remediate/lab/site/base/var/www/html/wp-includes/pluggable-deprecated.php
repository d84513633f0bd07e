<?php
/**
 * WordPress-like lab stub for wp-includes/pluggable-deprecated.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'pluggable-deprecated.php';
