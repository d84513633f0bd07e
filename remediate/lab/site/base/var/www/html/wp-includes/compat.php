<?php
/**
 * WordPress-like lab stub for wp-includes/compat.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'compat.php';
