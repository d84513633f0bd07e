<?php
/**
 * WordPress-like lab stub for wp-includes/pluggable.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'pluggable.php';
